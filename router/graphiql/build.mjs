// Bundles GraphiQL, React and Monaco's workers into ../assets/graphiql, which the router embeds.
import * as esbuild from 'esbuild';

const outdir = '../assets/graphiql';
const common = {
  bundle: true,
  minify: true,
  legalComments: 'none',
  target: 'es2020',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
};

await esbuild.build({
  ...common,
  entryPoints: { graphiql: 'src/index.jsx' },
  outdir,
  format: 'esm',
  jsx: 'automatic',
  loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file' },
  assetNames: '[name]',
});

await esbuild.build({
  ...common,
  entryPoints: {
    'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
    'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
    'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
  },
  outdir,
  format: 'iife',
});

// Only gzipped copies are kept (and embedded): every browser accepts gzip, and the files are
// several megabytes uncompressed.
import { readdirSync, readFileSync, writeFileSync, unlinkSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
for (const file of readdirSync(outdir)) {
  if (file.endsWith('.gz')) continue;
  const path = `${outdir}/${file}`;
  writeFileSync(`${path}.gz`, gzipSync(readFileSync(path), { level: 9 }));
  unlinkSync(path);
}
