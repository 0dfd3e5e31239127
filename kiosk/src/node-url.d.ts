// kiosk/vite.config.ts runs in Node; the project has no @types/node, so declare the one call it uses.
declare module "node:url" {
  export function fileURLToPath(url: string | URL): string;
}
