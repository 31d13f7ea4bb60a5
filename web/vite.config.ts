import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Django serves index.html at /app/ (injecting the OAuth client id) and the built assets as
// static files under /static/app/ (STATICFILES_DIRS), so asset URLs carry that base.
export default defineConfig(({ command }) => ({
  base: command === "build" ? "/static/app/" : "/",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  server: {
    // `npm run dev`: Vite on :5173 with the API proxied to `make run`'s server.
    proxy: {
      "/graphql": { target: "http://127.0.0.1:8000", ws: true },
      "/api": "http://127.0.0.1:8000",
      "/o": "http://127.0.0.1:8000",
      "/.well-known": "http://127.0.0.1:8000",
    },
  },
}));
