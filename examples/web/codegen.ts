// Typed operations from the committed supergraph (`schema/supergraph.graphql`), the same graph
// the router serves. `npm run codegen` rewrites src/gql; `.ci/run` runs `codegen:check`, which
// fails when an operation or the schema changed and src/gql was not regenerated.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema/supergraph.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        onlyOperationTypes: true,
        scalars: { DateTime: "string" },
        avoidOptionals: { field: true },
        defaultScalarType: "unknown",
      },
    },
  },
};

export default config;
