/**
 * Account names as operators use them: unique among live accounts ignoring ASCII case (the SQLite
 * store's unique index uses COLLATE NOCASE, which folds A-Z only), and a way to find an account by
 * the id or the name an operator typed.
 */

/** The name as the uniqueness rule compares it: ASCII letters lower-cased, everything else as is. */
export function foldName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

export function sameAccountName(a: string, b: string): boolean {
  return foldName(a) === foldName(b);
}

/**
 * The account `ref` names among `accounts`: the one with that id, else the one with that name
 * (ignoring ASCII case); a message saying why not otherwise (several namesakes can only be left
 * over from before names were unique, and then the id is needed).
 */
export function findAccountRef<A extends { readonly id: string; readonly name: string }>(accounts: readonly A[], ref: string): A | string {
  const byId = accounts.find((a) => a.id === ref);
  if (byId !== undefined) return byId;
  const named = accounts.filter((a) => sameAccountName(a.name, ref));
  if (named.length === 1) return named[0];
  return named.length === 0 ? `no account ${JSON.stringify(ref)} (give an account id or name)` : `${named.length} accounts are named ${JSON.stringify(ref)}: give the id`;
}
