/**
 * An LFTP connection's clock: milliseconds since the epoch with their fraction (performance.now() from the
 * same origin), monotonic. Whole milliseconds made an RTT on loopback 0 or 1 and a delivery-rate interval the
 * same, and the pacer's times are fractions of a millisecond.
 */
export function clockMs(): number {
  return performance.timeOrigin + performance.now();
}
