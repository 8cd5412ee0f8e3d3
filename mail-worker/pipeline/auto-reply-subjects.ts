/**
 * Out-of-office and automatic-reply subjects, for auto-replies that carry none of the standard
 * headers (many servers' vacation responders, most phones). Two strengths:
 *
 * - phrases that only auto-responders put in a subject match anywhere in it
 *   ("Automatic reply: …", "I am out of the office until May 3", "Abwesenheitsnotiz: …");
 * - single words that could also be a real subject ("Absent", "Ausente", "不在") only match as
 *   the prefix responders put in front of the original subject ("Absent: …", "[不在] …").
 *
 * A subject that starts with a reply or forward prefix ("Re:", "AW:", "SV:", "回复:") is what a
 * person's mail client writes, so it is never taken for an auto-reply by its subject: a task
 * titled "Configure auto-reply rules" gets replies titled "Re: … Configure auto-reply rules".
 * Responders put their phrase first ("Automatic reply: <original subject>"). Tags a gateway puts
 * in front ("[EXTERNAL]") are skipped first.
 */

const ANYWHERE: readonly string[] = [
  // English
  'out of office', 'out of the office', 'automatic reply', 'automatic response', 'auto-reply', 'auto reply',
  'autoreply', 'auto-response', 'autoresponse', 'autoresponder', 'away from the office', 'away from my desk',
  'on vacation', 'on holiday', 'on annual leave', 'on leave until',
  // German
  'abwesenheitsnotiz', 'automatische antwort', 'nicht im büro', 'außer haus', 'ausser haus', 'abwesenheitsmeldung',
  // French
  'réponse automatique', 'reponse automatique', 'absence du bureau', 'absent du bureau', "message d'absence",
  // Spanish
  'respuesta automática', 'respuesta automatica', 'fuera de la oficina', 'fuera de oficina',
  // Dutch
  'automatisch antwoord', 'niet op kantoor', 'afwezigheidsmelding',
  // Italian
  'risposta automatica', 'fuori sede', "fuori dall'ufficio", 'fuori ufficio',
  // Portuguese
  'resposta automática', 'resposta automatica', 'fora do escritório', 'fora do escritorio',
  // Swedish, Norwegian, Danish, Finnish
  'automatiskt svar', 'automatisk svar', 'automatisk besvarelse', 'autosvar', 'frånvaromeddelande',
  'fraværsmelding', 'fraværende', 'poissa toimistolta', 'automaattinen vastaus',
  // Polish, Czech, Russian, Turkish
  'automatyczna odpowiedź', 'automatická odpověď', 'автоматический ответ', 'нет на месте', 'otomatik yanıt',
  // Japanese, Chinese, Korean
  '自動応答', '自動返信', '自動応答メッセージ', '自动回复', '自動回覆', '自動回復', '자동 회신', '자동응답',
];

const PREFIX_ONLY: readonly string[] = [
  'away from', 'absent', 'abwesend', 'ausente', 'afwezig', 'frånvaro', 'fravær', 'poissa', 'auto', 'ooo',
  'vacation', 'urlaub', 'congés', 'vacaciones', 'vakantie', 'ferie', 'semester', '不在', '休暇', '请假', '休假',
];

const anywhere = new RegExp(`(?<![\\p{L}\\p{N}])(?:${ANYWHERE.map(escape).join('|')})(?![\\p{L}\\p{N}])`, 'iu');
// The word, then a colon, a closing bracket, a dash or the end: "Absent: …", "[不在] …", "OOO - …".
const prefix = new RegExp(`^\\s*[\\[(【「]?\\s*(?:${PREFIX_ONLY.map(escape).join('|')})\\s*(?:[:：\\])】」\\-–—]|$)`, 'iu');

const GATEWAY_TAGS = /^(?:\s*(?:\[[^\]]{1,40}\]|\*{1,2}[^*]{1,40}\*{1,2}))+/u;
const REPLY_PREFIX = /^\s*(?:re|aw|sv|vs|antw|antwort|r|rif|ref|réf|res|odp|fw|fwd|wg|tr|enc|rv|doorst|vb|回复|答复|回覆|返信|転送)\s*(?:\[\d+\])?\s*[:：]/iu;

/** The auto-reply phrase a subject carries, or undefined. */
export function autoReplySubjectMatch(subject: string): string | undefined {
  const text = subject.normalize('NFC').slice(0, 500).replace(GATEWAY_TAGS, '');
  if (REPLY_PREFIX.test(text)) return undefined;
  return anywhere.exec(text)?.[0] ?? prefix.exec(text)?.[0]?.trim();
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
