/**
 * Signature lines a reply ends with: the `-- ` delimiter (and the `--`/`__` variants clients
 * leave after trimming), and the one-line "Sent from my iPhone" family that phones and mail apps
 * add, in the languages they ship with.
 *
 * A device signature is short and has no sentence punctuation, so "Sent from my desk, is much
 * easier then my mobile phone." stays part of the reply. The possessive forms ("Sent from my …",
 * "Von meinem … gesendet", "Get Outlook for …") are signatures wherever they stand, even as the
 * only line (an empty reply from a phone). Other forms ("Sent with Sparrow", "Sent from a
 * magnificent torch of pixels") count only as the last line under some reply text, so that a
 * reply that *is* "Sent from the warehouse this morning" is kept.
 */

const DELIMITER = /^[ \t]*(?:-{2,4}|_{2,4}|—)[ \t]*$/;

// The device or app part: short, no commas, semicolons or sentence marks.
const TAIL = '[^,;!?\\n]{1,50}';
const STRONG = [
  `sent from my ${TAIL}`,
  `sent from (?:mail for windows|outlook|yahoo mail|aol|gmail|samsung mail|blackberry|proton ?mail|mobile)${TAIL}?`,
  `get (?:outlook|the [\\p{L}\\d ]{1,20} app) for ${TAIL}`,
  `von meinem ${TAIL} gesendet`,
  `envoyé (?:de|depuis) mon ${TAIL}`,
  `télécharger outlook pour ${TAIL}`,
  `enviado (?:desde|de) mi ${TAIL}`,
  `enviado do meu ${TAIL}`,
  `obtener outlook para ${TAIL}`,
  `inviato (?:da|dal) (?:mio )?(?:iphone|ipad|android|samsung|dispositivo|cellulare|smartphone)${TAIL}?`,
  `(?:verstuurd|verzonden) vanaf mijn ${TAIL}`,
  `skickat från min ${TAIL}`,
  `sendt fra min ${TAIL}`,
  `lähetetty (?:iphonesta|ipadista|android-laitteesta|puhelimesta)`,
  `wysłane z (?:mojego )?${TAIL}`,
  `odesláno z (?:mého )?${TAIL}`,
  `отправлено с (?:моего )?${TAIL}`,
  `${TAIL}から送信`,
  `(?:发自|發自)我的\\s*${TAIL}`,
];
const WEAK = [
  `sent (?:from|with) ${TAIL}`,
  `gesendet (?:von|mit) ${TAIL}`,
  `envoyé (?:de|depuis|à partir de|avec) ${TAIL}`,
  `enviado (?:desde|do|de|a partir do|con) ${TAIL}`,
  `inviato (?:da|dal|con) ${TAIL}`,
  `(?:verstuurd|verzonden) (?:vanaf|met|via) ${TAIL}`,
  `skickat (?:från|med) ${TAIL}`,
  `sendt (?:fra|med) ${TAIL}`,
];
const compile = (sources: readonly string[]) => sources.map((source) => new RegExp(`^${source}$`, 'iu'));
const STRONG_RE = compile(STRONG);
const WEAK_RE = compile(WEAK);
// What email-reply-parser takes for a device signature: only our own test decides those.
const DEVICE_PREFIX = /^(?:sent from|sendt fra|envoy[ée] (?:depuis|de mon|à partir de)|enviado desde|verzonden vanaf|verstuurd vanaf|von .+ gesendet|gesendet von|get outlook for|t[ée]l[ée]charger outlook pour)/iu;

/** `-- `, `--`, `__` alone on a line. */
export function isSignatureDelimiter(line: string): boolean {
  return DELIMITER.test(line);
}

/**
 * A one-line device or app signature. `lastUnderText`: whether the line is the last one, under
 * some reply text; otherwise only the unmistakable possessive forms count.
 */
export function isDeviceSignature(line: string, lastUnderText = true): boolean {
  const bare = line
    .replace(/<[^<>\s]*>|\((?:https?:|www\.)[^()]*\)|\[(?:https?:|mailto:)[^\]]*\]/gi, '')
    .trim()
    .replace(/\.$/, '');
  if (bare.length === 0 || bare.length > 80) return false;
  return STRONG_RE.some((re) => re.test(bare)) || (lastUnderText && WEAK_RE.some((re) => re.test(bare)));
}

/** Lines email-reply-parser would hide as a device signature (it does not check the rest of the line). */
export function looksLikeDeviceSignature(line: string): boolean {
  return DEVICE_PREFIX.test(line.trim());
}

/** The line the signature starts on, or -1. */
export function signatureStart(lines: readonly string[]): number {
  let last = lines.length - 1;
  while (last >= 0 && (lines[last] ?? '').trim() === '') last--;
  let textAbove = false;
  for (let i = 0; i <= last; i++) {
    const line = lines[i] ?? '';
    if (line.length <= 200 && (isSignatureDelimiter(line) || isDeviceSignature(line, textAbove && i === last))) return i;
    if (line.trim() !== '') textAbove = true;
  }
  return -1;
}
