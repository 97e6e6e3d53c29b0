import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Served by `tessera dev` at /app, on the router's own origin. `npm run dev` serves it here
// and proxies the graph (HTTP and websocket) to the router, so the browser sees one origin
// either way and no CORS is involved.
const router = process.env.TESSERA_ROUTER ?? "http://127.0.0.1:4000";

export default defineConfig({
  base: "/app/",
  plugins: [react()],
  server: {
    port: 5173,
    proxy: { "/graphql": { target: router, ws: true, changeOrigin: false } },
  },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
});
