/** "1 session", "3 sessions", "0 entries": a count and its noun, in the one form every message uses. */
export function plural(count: number, singular: string, pluralForm = pluralOf(singular)): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

function pluralOf(noun: string): string {
  if (/[^aeiou]y$/.test(noun)) return `${noun.slice(0, -1)}ies`;
  if (/(s|x|ch|sh)$/.test(noun)) return `${noun}es`;
  return `${noun}s`;
}
