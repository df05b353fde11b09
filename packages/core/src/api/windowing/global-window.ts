import { Window } from './window.js'

/**
 * The one window holding every element of a key (Flink's `GlobalWindow`); it never ends, so its
 * `maxTimestamp()` is `+Infinity` (Flink's `Long.MAX_VALUE`) and it only fires through a trigger such
 * as {@link CountTrigger}.
 */
export class GlobalWindow extends Window {
  private static readonly instance = new GlobalWindow()

  private constructor() {
    super()
  }

  static get(): GlobalWindow {
    return GlobalWindow.instance
  }

  maxTimestamp(): number {
    return Number.POSITIVE_INFINITY
  }

  equals(other: unknown): boolean {
    return other instanceof GlobalWindow
  }

  override toString(): string {
    return 'GlobalWindow'
  }
}
