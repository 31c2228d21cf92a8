/*
 * The id of a dataset (its folder, and what runs refer to) from the name the user gave it, for
 * names in any script: Latin accents are dropped, Cyrillic and Greek are transliterated, and a
 * name whose letters cannot be spelled in ASCII (鳥, ---, ..) gets a short hash of the name, so
 * every name has a working id and two such names do not share one. The name itself is kept in the
 * manifest for display.
 */
import { createHash } from 'node:crypto';
import { SafeId } from '../../common/dataset';

const CYRILLIC: Record<string, string> = {
  а: 'a', б: 'b', в: 'v', г: 'g', ґ: 'g', д: 'd', е: 'e', ё: 'e', є: 'ye', ж: 'zh', з: 'z', и: 'i', і: 'i',
  ї: 'yi', й: 'y', к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f',
  х: 'kh', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'shch', ъ: '', ы: 'y', ь: '', э: 'e', ю: 'yu', я: 'ya'
}; // prettier-ignore
const GREEK: Record<string, string> = {
  α: 'a', β: 'v', γ: 'g', δ: 'd', ε: 'e', ζ: 'z', η: 'i', θ: 'th', ι: 'i', κ: 'k', λ: 'l', μ: 'm', ν: 'n',
  ξ: 'x', ο: 'o', π: 'p', ρ: 'r', σ: 's', ς: 's', τ: 't', υ: 'y', φ: 'f', χ: 'ch', ψ: 'ps', ω: 'o'
}; // prettier-ignore

/** Latin letters for Cyrillic and Greek ones (after lower-casing and dropping accents); others stay. */
function transliterate(text: string): string {
  return [...text].map((ch) => CYRILLIC[ch] ?? GREEK[ch] ?? ch).join('');
}

const shortHash = (name: string): string => createHash('sha256').update(name).digest('hex').slice(0, 8);

/**
 * The dataset id for a display name: lower case, accents dropped, Cyrillic and Greek
 * transliterated, every run of characters other than letters, digits, '.', '_' and '-' turned into
 * one '-', trimmed, at most 64 characters. Letters that have no ASCII spelling add a short hash of
 * the name ('鳥 2024' -> '2024-<hash>'); a name with nothing left becomes 'ds-<hash>'.
 */
export function datasetIdFromName(name: string): string {
  const latin = transliterate(
    name
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
  );
  const slug = latin
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '')
    .slice(0, 64);
  const lost = /[^\x00-\x7f]/.test(latin.replace(/[^\p{L}\p{N}]/gu, ''));
  if (slug && SafeId.safeParse(slug).success) return lost ? `${slug.slice(0, 55)}-${shortHash(name)}` : slug;
  return `ds-${shortHash(name)}`;
}
