import type { Rule } from 'eslint';

declare const architecture: Rule.RuleModule;
export default architecture;
