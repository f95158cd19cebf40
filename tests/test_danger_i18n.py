"""English and Arabic danger and distress (bot/danger_en.yml, bot/danger_ar.yml through
bot.danger_i18n): every alarm sentence is caught, ordinary sentences raise no alarm."""
import pytest

from bot.danger_i18n import LANGUAGES, detect, lexicon, normalize_en

EN_DANGER = [
    "help me please he is hitting me",
    "my husband is beating me right now",
    "he is going to kill me",
    "hes gonna kill me pls help",
    "he said he is going to kill me tonight",
    "my ex is outside my door",
    "my boyfriend is banging on the door and screaming",
    "someone is trying to break in",
    "there is a man in my house",
    "he has a knife",
    "he pulled out a gun",
    "he's got a knife to my throat",
    "he locked me in the bedroom",
    "i'm locked in the bathroom and he's shouting",
    "he won't let me leave the flat",
    "a man is following me",
    "i think i'm being followed right now",
    "i am hiding in the bathroom",
    "im in danger",
    "please call the police",
    "my dad is hitting my little brother",
    "my stepdad is choking my mum",
    "he just hit me and he's still here",
    "she is bleeding a lot",
    "he is trying to rape me",
    "they are coming for me",
    "HELP",
    "my husband hits me right now",
    "i'm being attacked",
]
EN_DISTRESS = [
    "i want to kill myself",
    "i feel suicidal",
    "i dont want to live anymore",
    "i just want to die",
    "i cut myself again last night",
    "i'm thinking of taking all my pills",
    "my sister says she wants to kill herself",
    "there is no reason to live",
    "i cant go on like this",
]
EN_ORDINARY = [
    "hello, my husband hits me, I live in Laon",
    "my ex used to hit me years ago",
    "he hit me last year but i left him",
    "my boyfriend controls my phone and my money",
    "someone stole my bike yesterday",
    "my house was burgled last week while we were away",
    "i was scammed by a fake bank advisor",
    "my daughter is bullied at school",
    "he is not hitting me anymore, i am safe now",
    "i do not want to die, i want to get out of this relationship",
    "i watched a movie where a man is going to kill his wife",
    "my back is killing me",
    "i'm dying to see my kids again",
    "what should i do if he comes back",
    "i am safe at my sister's place now",
    "my grandmother is being neglected in her care home",
    "how can i file a complaint",
    "thank you for your help",
    "I need a lawyer for my divorce",
    "my neighbour plays loud music every night",
    "he threatened me by text a month ago",
    "my son is getting radicalised online",
    "i was raped when i was 15 and i never told anyone",
    "he says he will kill me if i leave him",
    "my ex keeps sending me messages",
    "where can i find a shelter for women",
    "my phone was stolen on the bus",
    "my colleague harasses me at work",
    "I'd like to talk to someone about what happened to me as a child",
    "the police arrested him and he is in jail",
    "he had a knife in the kitchen drawer when we lived together",
    "i want to leave him but i have nowhere to go",
]
AR_DANGER = [
    "النجدة",
    "ساعدوني زوجي يضربني الآن",
    "أنا في خطر",
    "سيقتلني",
    "هو أمام الباب ويريد قتلي",
    "زوجي يريد أن يقتلني",
    "رح يقتلني",
    "معه سكين",
    "شهر مسدس في وجهي",
    "يكسر الباب",
    "يحاول الدخول إلى البيت",
    "حبسني في الغرفة",
    "أنا محبوسة في البيت",
    "أنا مختبئة في الحمام",
    "رجل يلاحقني",
    "أنقذوني",
    "اتصلوا بالشرطة",
    "حياتي في خطر",
    "يخنقني",
    "ابني ينزف",
    "أخي يضرب أمي الآن",
]
AR_DISTRESS = [
    "أريد أن أموت",
    "أفكر في الانتحار",
    "بدي موت",
    "لا أريد أن أعيش",
    "سأقتل نفسي",
    "أجرح نفسي",
    "لم أعد أحتمل",
]
AR_ORDINARY = [
    "مرحبا",
    "شكرا جزيلا",
    "زوجي يضربني منذ سنوات",
    "كان زوجي يضربني في الماضي",
    "سرقوا هاتفي في الحافلة",
    "تعرضت للاحتيال عبر الإنترنت",
    "ابنتي تتعرض للتنمر في المدرسة",
    "أنا في أمان الآن عند أختي",
    "لست في خطر",
    "أريد أن أقدم شكوى",
    "أين أجد محاميا",
    "أسكن في لان",
    "جارتي مسنة ولا أحد يهتم بها",
    "لا أريد أن أموت، أريد أن أعيش بسلام",
    "شاهدت فيلما عن رجل يقتل زوجته",
    "زوجي يأخذ كل راتبي",
    "هل يمكنني التحدث مع شخص بالعربية",
    "أحتاج إلى مأوى لي ولأطفالي",
    "تم سرقة سيارتي أمس",
    "أخي متطرف وأنا قلقة عليه",
    "نعم",
    "لا",
    "صباح الخير، عندي سؤال",
    "جاري يزعجني بالموسيقى كل ليلة",
    "أريد الطلاق",
    "كيف أحصل على مساعدة قانونية",
    "الشرطة هنا وذهب",
    "ضربني مرة واحدة قبل سنة",
    "أنا لاجئة وأحتاج إلى مساعدة في الأوراق",
    "زوجي يهددني إذا تركته",
]


@pytest.mark.parametrize("text", EN_DANGER)
def test_english_danger(text):
    assert detect(text, "en").danger, normalize_en(text)


@pytest.mark.parametrize("text", EN_DISTRESS)
def test_english_distress(text):
    assert detect(text, "en").distress, normalize_en(text)


@pytest.mark.parametrize("text", EN_ORDINARY)
def test_english_ordinary_raises_no_alarm(text):
    f = detect(text, "en")
    assert not f.danger and not f.distress, f.evidence


@pytest.mark.parametrize("text", AR_DANGER)
def test_arabic_danger(text):
    assert detect(text, "ar").danger


@pytest.mark.parametrize("text", AR_DISTRESS)
def test_arabic_distress(text):
    assert detect(text, "ar").distress


@pytest.mark.parametrize("text", AR_ORDINARY)
def test_arabic_ordinary_raises_no_alarm(text):
    f = detect(text, "ar")
    assert not f.danger and not f.distress, f.evidence


def test_sizes_of_the_lists():
    assert len(EN_DANGER) + len(EN_DISTRESS) >= 30 and len(EN_ORDINARY) >= 30
    assert len(AR_DANGER) + len(AR_DISTRESS) >= 20 and len(AR_ORDINARY) >= 30


def test_safety_after_danger_cancels_it_but_not_before():
    assert not detect("he was outside my door. now i am safe at my sister's", "en").danger
    assert detect("i was safe but now he is outside my door", "en").danger


def test_evidence_is_pattern_ids_never_words():
    f = detect("he has a knife, help me please", "en")
    ids = {p.id for p in lexicon("en").patterns}
    assert f.evidence and set(f.evidence) <= ids


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_every_entry_has_a_note_and_compiles(lang):
    lex = lexicon(lang)
    assert lex.patterns and {"negation_before", "now", "time", "safety", "frame"} <= set(lex.guards)


def test_other_languages_give_no_flags():
    assert detect("he is going to kill me", "fr") == detect("", "en") == detect("x", "es")


@pytest.mark.parametrize("text,lang", [
    ("زوجي كان يضربني والآن انفصلنا", "ar"),       # past: كان before the verb, even with "now" after
    ("i am in danger of losing my job", "en"),      # figurative danger
])
def test_past_and_figurative_danger_raise_no_alarm(text, lang):
    assert not detect(text, lang).danger


def test_danger_of_death_is_still_danger():
    assert detect("i am in danger of being killed", "en").danger
