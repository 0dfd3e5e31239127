// What the console knows now, shared by the tabs.
import type { Overview, SessionView } from "../../ts/api";

type Listener = (o: Overview) => void;

export const state: {
  session: SessionView | null;
  overview: Overview | null;
} = { session: null, overview: null };

const listeners: Listener[] = [];

/** Call `f` with every new overview. */
export function onOverview(f: Listener): void {
  listeners.push(f);
}

export function setOverview(o: Overview): void {
  state.overview = o;
  for (const f of listeners) {
    try {
      f(o);
    } catch (e) {
      console.error(e);
    }
  }
}
