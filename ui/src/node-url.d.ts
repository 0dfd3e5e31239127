// ui/vite.config.ts runs in Node and uses node:url; the project has no @types/node, so this
// declares the one function it needs (it merges with @types/node's if that is installed).
declare module "node:url" {
  export function fileURLToPath(url: string | URL): string;
}
