// A visible countdown: ticks once a second with the seconds left, then calls done once.

export interface Countdown {
  /** Seconds left now. */
  left(): number;
  /** Stops it without calling done. */
  stop(): void;
}

export function startCountdown(
  seconds: number,
  tick: (left: number) => void,
  done: () => void,
): Countdown {
  let left = Math.max(0, Math.floor(seconds));
  let timer: ReturnType<typeof setInterval> | null = null;
  const stop = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
  tick(left);
  if (left === 0) {
    done();
  } else {
    timer = setInterval(() => {
      left -= 1;
      tick(left);
      if (left <= 0) {
        stop();
        done();
      }
    }, 1000);
  }
  return { left: () => left, stop };
}
