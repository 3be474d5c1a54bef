// Types for the part of better-sqlite3 12 that the store uses. The package ships no types and
// @types/better-sqlite3 is not a dependency; this declaration covers only what the store calls,
// so a misuse fails the type check instead of passing as `any`.
declare module 'better-sqlite3' {
  namespace Database {
    interface RunResult {
      changes: number;
      lastInsertRowid: number | bigint;
    }

    interface Statement<Row = unknown> {
      readonly reader: boolean;
      run(...params: unknown[]): RunResult;
      get(...params: unknown[]): Row | undefined;
      all(...params: unknown[]): Row[];
      iterate(...params: unknown[]): IterableIterator<Row>;
      pluck(toggle?: boolean): this;
      raw(toggle?: boolean): this;
    }

    interface Transaction<F extends (...args: never[]) => unknown> {
      (...args: Parameters<F>): ReturnType<F>;
      deferred(...args: Parameters<F>): ReturnType<F>;
      immediate(...args: Parameters<F>): ReturnType<F>;
      exclusive(...args: Parameters<F>): ReturnType<F>;
    }

    interface Options {
      readonly?: boolean;
      fileMustExist?: boolean;
      /** Busy timeout in milliseconds (default 5000). */
      timeout?: number;
      /** Path of the addon binary to load instead of the one npm built. */
      nativeBinding?: string;
    }

    interface Database {
      readonly name: string;
      readonly open: boolean;
      readonly inTransaction: boolean;
      readonly readonly: boolean;
      prepare<Row = unknown>(sql: string): Statement<Row>;
      exec(sql: string): this;
      pragma(source: string, options?: { simple?: boolean }): unknown;
      transaction<F extends (...args: never[]) => unknown>(fn: F): Transaction<F>;
      close(): this;
    }
  }

  interface DatabaseConstructor {
    new (filename: string, options?: Database.Options): Database.Database;
  }

  const Database: DatabaseConstructor;
  export = Database;
}
