// What the Smart-ID pages say, in Latvian, English and Russian (the languages Smart-ID users in Latvia
// read). The gateway's own pages know lv and en only; these pages also offer ru.
import { pickLocale } from '../../src/web/i18n.ts';

export const LANGS = ['lv', 'en', 'ru'] as const;
export type Lang = (typeof LANGS)[number];

export const isLang = (v: unknown): v is Lang => typeof v === 'string' && (LANGS as readonly string[]).includes(v);

/** A page's language where its login is gone (so is the login's language): the page's own `lang`, else
 * the browser's (Accept-Language), else Latvian. */
export function requestLang(req: { query: Record<string, unknown>; get(name: string): string | undefined }): Lang {
  return pickLocale(isLang(req.query.lang) ? req.query.lang : undefined, req.get('accept-language'));
}

const M = {
  title: { lv: 'Smart-ID', en: 'Smart-ID', ru: 'Smart-ID' },
  identify_intro: {
    lv: 'Ievadiet personas kodu un izvēlieties valsti. Apstiprinājuma pieprasījums tiks nosūtīts uz jūsu Smart-ID lietotni.',
    en: 'Enter your personal code and choose the country. A request will be sent to your Smart-ID app.',
    ru: 'Введите персональный код и выберите страну. Запрос будет отправлен в ваше приложение Smart-ID.',
  },
  personal_code: { lv: 'Personas kods', en: 'Personal code', ru: 'Персональный код' },
  country: { lv: 'Valsts', en: 'Country', ru: 'Страна' },
  country_LV: { lv: 'Latvija', en: 'Latvia', ru: 'Латвия' },
  country_EE: { lv: 'Igaunija', en: 'Estonia', ru: 'Эстония' },
  country_LT: { lv: 'Lietuva', en: 'Lithuania', ru: 'Литва' },
  continue: { lv: 'Turpināt', en: 'Continue', ru: 'Продолжить' },
  cancel: { lv: 'Atcelt', en: 'Cancel', ru: 'Отменить' },
  bad_code: {
    lv: 'Personas kods nav derīgs. Pārbaudiet to un mēģiniet vēlreiz.',
    en: 'The personal code is not valid. Check it and try again.',
    ru: 'Персональный код недействителен. Проверьте его и попробуйте снова.',
  },
  wait_title: {
    lv: 'Apstipriniet Smart-ID lietotnē',
    en: 'Confirm in the Smart-ID app',
    ru: 'Подтвердите в приложении Smart-ID',
  },
  wait_intro: {
    lv: 'Pārliecinieties, ka lietotnē redzamais kontroles kods sakrīt ar šo, un apstipriniet pieslēgšanos.',
    en: 'Make sure the verification code in the app matches this one, then confirm the login.',
    ru: 'Убедитесь, что контрольный код в приложении совпадает с этим, и подтвердите вход.',
  },
  verification_code: { lv: 'Kontroles kods', en: 'Verification code', ru: 'Контрольный код' },
  web2app_intro: {
    lv: 'Vai, ja Smart-ID lietotne ir šajā ierīcē:',
    en: 'Or, if the Smart-ID app is on this device:',
    ru: 'Или, если приложение Smart-ID на этом устройстве:',
  },
  open_app: { lv: 'Atvērt Smart-ID lietotni', en: 'Open the Smart-ID app', ru: 'Открыть приложение Smart-ID' },
  end_revoked: {
    lv: 'Jūsu Smart-ID sertifikāts ir atsaukts vai nav derīgs. Pārbaudiet Smart-ID lietotni vai sazinieties ar Smart-ID atbalstu.',
    en: 'Your Smart-ID certificate has been revoked or is not valid. Check the Smart-ID app or contact Smart-ID support.',
    ru: 'Ваш сертификат Smart-ID отозван или недействителен. Проверьте приложение Smart-ID или обратитесь в поддержку Smart-ID.',
  },
  qr_intro: {
    lv: 'Vai nolasiet QR kodu ar Smart-ID lietotni tālrunī:',
    en: 'Or scan a QR code with the Smart-ID app on your phone:',
    ru: 'Или отсканируйте QR-код приложением Smart-ID на телефоне:',
  },
  show_qr: { lv: 'Rādīt QR kodu', en: 'Show a QR code', ru: 'Показать QR-код' },
  qr_wait_intro: {
    lv: 'Atveriet Smart-ID lietotni tālrunī, nolasiet šo QR kodu un apstipriniet pieslēgšanos. Kods mainās katru sekundi.',
    en: 'Open the Smart-ID app on your phone, scan this QR code and confirm the login. The code changes every second.',
    ru: 'Откройте приложение Smart-ID на телефоне, отсканируйте этот QR-код и подтвердите вход. Код меняется каждую секунду.',
  },
  qr_alt: { lv: 'Smart-ID QR kods', en: 'Smart-ID QR code', ru: 'QR-код Smart-ID' },
  qr_text: { lv: 'QR koda saite tekstā', en: 'The QR code link as text', ru: 'Ссылка QR-кода текстом' },
  refresh: { lv: 'Atjaunot', en: 'Refresh', ru: 'Обновить' },
  end_title: { lv: 'Pieslēgšanās neizdevās', en: 'The login did not succeed', ru: 'Вход не удался' },
  back_to_service: { lv: 'Atgriezties pakalpojumā', en: 'Back to the service', ru: 'Вернуться в сервис' },
  reference: {
    lv: 'Atsauce palīdzības dienestam',
    en: 'Reference for the help desk',
    ru: 'Номер для службы поддержки',
  },
  end_refused: {
    lv: 'Jūs atteicāties no pieslēgšanās Smart-ID lietotnē.',
    en: 'You refused the login in the Smart-ID app.',
    ru: 'Вы отказались от входа в приложении Smart-ID.',
  },
  end_timeout: {
    lv: 'Pieslēgšanās netika apstiprināta laikā. Mēģiniet vēlreiz.',
    en: 'The login was not confirmed in time. Please try again.',
    ru: 'Вход не был подтверждён вовремя. Попробуйте снова.',
  },
  end_wrong_vc: {
    lv: 'Lietotnē tika izvēlēts nepareizs kontroles kods. Mēģiniet vēlreiz un izvēlieties kodu, kas redzams šajā lapā.',
    en: 'A wrong verification code was chosen in the app. Try again and choose the code shown on this page.',
    ru: 'В приложении выбран неверный контрольный код. Попробуйте снова и выберите код, показанный на этой странице.',
  },
  end_unusable: {
    lv: 'Jūsu Smart-ID kontu šobrīd nevar izmantot. Atveriet Smart-ID lietotni vai sazinieties ar Smart-ID atbalstu.',
    en: 'Your Smart-ID account cannot be used right now. Open the Smart-ID app or contact Smart-ID support.',
    ru: 'Ваш аккаунт Smart-ID сейчас нельзя использовать. Откройте приложение Smart-ID или обратитесь в поддержку Smart-ID.',
  },
  end_not_supported: {
    lv: 'Jūsu Smart-ID lietotne neatbalsta šo pieslēgšanos. Atjauniniet lietotni.',
    en: 'Your Smart-ID app does not support this login. Please update the app.',
    ru: 'Ваше приложение Smart-ID не поддерживает этот вход. Обновите приложение.',
  },
  end_no_account: {
    lv: 'Šim personas kodam nav piemērota Smart-ID konta.',
    en: 'There is no suitable Smart-ID account for this personal code.',
    ru: 'Для этого персонального кода нет подходящего аккаунта Smart-ID.',
  },
  end_maintenance: {
    lv: 'Smart-ID pakalpojumā notiek apkope. Mēģiniet vēlāk.',
    en: 'The Smart-ID service is under maintenance. Please try later.',
    ru: 'Сервис Smart-ID на обслуживании. Попробуйте позже.',
  },
  end_technical: {
    lv: 'Radās tehniska kļūda saziņā ar Smart-ID. Mēģiniet vēlāk.',
    en: 'A technical error occurred while talking to Smart-ID. Please try later.',
    ru: 'При обращении к Smart-ID произошла техническая ошибка. Попробуйте позже.',
  },
  end_too_many: {
    lv: 'Uz šīs personas Smart-ID lietotni ir nosūtīts pārāk daudz pieprasījumu. Mēģiniet vēlreiz pēc dažām minūtēm. Ja šos pieprasījumus nesākāt jūs, neko neapstipriniet Smart-ID lietotnē, bet atsakiet tos.',
    en: "Too many requests have been sent to this person's Smart-ID app. Try again in a few minutes. If you did not start these requests, confirm nothing in the Smart-ID app: refuse them.",
    ru: 'В приложение Smart-ID этого человека отправлено слишком много запросов. Попробуйте снова через несколько минут. Если вы не отправляли эти запросы, ничего не подтверждайте в приложении Smart-ID, а отклоните их.',
  },
  expired: {
    lv: 'Šī pieslēgšanās vairs nav aktīva. Sāciet no jauna pakalpojumā.',
    en: 'This login is no longer active. Start again at the service.',
    ru: 'Этот вход больше не активен. Начните заново в сервисе.',
  },
  other_browser: {
    lv: 'Šī pieslēgšanās tika sākta citā pārlūkprogrammā, tāpēc tā šeit netiek turpināta. Ja to sākāt jūs, turpiniet tajā pārlūkprogrammā, kurā sākāt. Ja ne, kāds, iespējams, mēģina pieslēgties jūsu vārdā: neapstipriniet neko Smart-ID lietotnē un aizveriet šo lapu.',
    en: 'This login was begun in another browser, so it does not go on here. If you began it, go on in the browser you began in. If you did not, someone may be trying to log in as you: confirm nothing in the Smart-ID app and close this page.',
    ru: 'Этот вход был начат в другом браузере, поэтому здесь он не продолжается. Если вы начали его сами, продолжайте в том браузере, в котором начали. Если нет, возможно, кто-то пытается войти от вашего имени: ничего не подтверждайте в приложении Smart-ID и закройте эту страницу.',
  },
} as const satisfies Record<string, Record<Lang, string>>;

export type MessageKey = keyof typeof M;

export const msg = (lang: Lang, key: MessageKey): string => M[key][lang];
