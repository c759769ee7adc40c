// Types for scripts/readme-snippets.mjs, so the TypeScript tests can import
// it (the project type-checks .ts only; allowJs stays off).

export declare const ROOT: string
export declare const README: string
/** README.md, then docs/*.md, as absolute paths. */
export declare function documents(): string[]

export type SnippetKind =
  | 'workflow'
  | 'jobs'
  | 'job'
  | 'steps'
  | 'job-keys'
  | 'kubernetes'
  | 'invalid'
  | 'other'

export interface Snippet {
  /** The Markdown file, relative to the repository root. */
  source: string
  /** 1-based line of the snippet's first line in that file. */
  line: number
  text: string
  kind: SnippetKind
  /** Why the YAML does not parse (kind 'invalid'). */
  error?: string
  /** For workflow-shaped snippets: a file name, the workflow, how it is wrapped. */
  name?: string
  workflow?: string
  prefixLines?: number
  indent?: number
}

export declare function yamlBlocks(
  markdown: string
): { line: number; text: string }[]
export declare function classify(doc: unknown): SnippetKind
export declare function snippets(file?: string): Snippet[]
export declare function snippetsOf(markdown: string, source: string): Snippet[]
export declare function toSource(
  snippet: Snippet,
  line: number,
  column?: number
): { line: number; column: number }
export declare function locate(snippet: Snippet, message: string): string
