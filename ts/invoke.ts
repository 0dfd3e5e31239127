// How the generated ts/api.ts reaches the app: Tauri's invoke and listen, with a refused
// command's error typed. Names no command or event: those are generated from Rust.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { ApiError, ErrorKind } from "./api";

export type { UnlistenFn };

/** A refused command's error, as the app sends it; anything else becomes an `unavailable` one. */
export function asApiError(e: unknown): ApiError {
  if (e && typeof e === "object" && "kind" in e && "message" in e) {
    const { kind, message } = e as { kind: unknown; message: unknown };
    return { kind: String(kind) as ErrorKind, message: String(message) };
  }
  return { kind: "unavailable", message: String(e) };
}

export async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw asApiError(e);
  }
}

export function listenTo<T>(event: string, f: (payload: T) => void): Promise<UnlistenFn> {
  return listen<T>(event, (e) => f(e.payload));
}
