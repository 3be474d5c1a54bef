import type { Rule } from 'eslint';

export interface Layer {
  readonly name: string;
  readonly prefix: string;
  readonly rank: number;
  readonly peers: boolean;
}
/** The declared layer order, base first; a row's layers are peers. */
export declare const ORDER: readonly { readonly layers: readonly string[]; readonly peers?: boolean }[];
export declare function layerOf(rel: string): Layer | undefined;
export declare function environmentOf(rel: string): string | undefined;
declare const architecture: Rule.RuleModule;
export default architecture;
