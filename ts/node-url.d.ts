// The frontends' vite configs run in Node and use node:url; the project has no @types/node, so
// this declares the one function they need (it merges with @types/node's if that is installed).
declare module "node:url" {
  export function fileURLToPath(url: string | URL): string;
}
