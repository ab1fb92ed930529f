"""Offline classification of short shop chat messages in English, French and Polish.

:class:`KeywordClassifier` is the default ``RESPONSO_CHAT_CLASSIFIER``. It guesses a message's
sentiment, its topic ("context") and its language from the hand-written lexicons below, using
only the standard library. A host may plug in its own classifier (a model, a remote API) by
naming any class that implements :class:`Classifier` in that setting.

Lexicon terms are written normalized (lower case, no accents, "l" for "ł") and separated by
commas. A term may have several words; a word ending in ``*`` matches any word it starts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from responso_chat.vocab import LANGUAGES

# Longest stretch of a message that is looked at; chat messages are far shorter.
MAX_CHARS = 5000

# --- Sentiment ---------------------------------------------------------------------------
# weight -> terms. A weight of 0 only stops a greeting such as "dzien dobry" counting as "dobry".
SENTIMENT_TERMS = {
    2.0: "love*, amazing, awesome, excellent, fantastic, perfect*, wonderful, brilliant, superb,"
    " gorgeous, delighted, adore*, parfait*, genial*, magnifique*, merveill*, ravi, ravie,"
    " impeccable*, au top, uwielbiam, kocham, swietn*, doskonal*, idealn*, wspanial*, rewelac*,"
    " cudown*",
    1.0: "good, great, nice, happy, pleased, satisfied, glad, lovely, beautiful, helpful,"
    " impressed, recommend*, best, top, well done, super, cool, bon, bonne, content,"
    " contente, satisfait*, agreabl*, recommand*, sympa, nickel, bravo, formidable, dobr*,"
    " zadowol*, polecam*, fajn*, piekn*, przyzwoit*, ekstra, zgodn* z opisem",
    0.5: "fine, quick*, fast, smooth*, decent, bien, rapide*, szybk*, sprawn*",
    0.0: "good morning, good afternoon, good evening, dzien dobry, dobry wieczor",
    -0.5: "problem*, issue*, late, delay*, unfortunately, still waiting, retard*, dommage,"
    " malheureusement, attends toujours, toujours en attente, niestety, opozni*, czekam juz,"
    " nadal czekam, wciaz czekam, dalej czekam",
    -1.0: "bad, poor*, wrong, unhappy, upset, annoy*, frustrat*, ridiculous, useless, rubbish,"
    " disappoint*, sucks, nobody, no one, broken, broke, damag*, defective, faulty, shatter*,"
    " crack*, smashed, scratched, torn, ripped, stuck, missing, complain*, joke,"
    " waste, rude, fed up, not work*, stopped working, still not, still no,"
    " still nothing, still have not, still has not, never arrived, never got, never received,"
    " no reply, no answer, no response, charged twice, does not match, not as described,"
    " taking so long, why so long, mal, mauvais*, decu*, decev*, deception,"
    " nul, nulle, nuls, mediocre*, penible*, agac*, enerv*, marre, pire, pas serieux,"
    " toujours pas, toujours rien, rien recu, personne ne repond, aucune reponse, ne marche,"
    " marche pas, marche plus, ne fonctionne, fonctionne pas, fonctionne plus, cass*, abim*,"
    " defectu*, brise*, en panne, n importe quoi, bloque*, manque*, reclamation*, plainte,"
    " debite deux fois, preleve deux fois, pourquoi si long, zly, zla, zle, zlego, zlej, slab*,"
    " rozczarow*, zawiod*, zawied*, niezadowol*, wkurz*, denerw*, irytuj*, nie dziala,"
    " przestal* dzialac, nadal nie, nadal nic, dalej nic, dalej nie, wciaz nie, wciaz nic,"
    " ciagle nie, nikt nie odpisuje, nikt nie odpowiada, brak odpowiedzi, uszkodz*, zepsu*,"
    " wadliw*, stluc*, rozbit*, zart, niezgodn*, brakuje, reklamac*, utknel*, dwukrotnie,"
    " nic nie dostal*, nic nie przyszlo, nic nie doszlo, dalej jej nie ma, nadal jej nie ma,"
    " wciaz jej nie ma, dalej go nie ma, nadal go nie ma, czemu tak dlugo, dlaczego tak dlugo",
    -2.0: "terrible, awful, horrible*, worst, disgust*, furious, unacceptable, scam, hate,"
    " pathetic, affreu*, inadmissible, inacceptable, scandal*, honte*, arnaque*,"
    " lamentable, catastroph*, deplorable, escroc*, furieu*, beznadziej*, okropn*, fataln*,"
    " tragiczn*, tragedia, skandal*, masakr*, zenad*, zenujac*, koszmar*, straszny, straszna,"
    " straszne, oszust*, porazk*, kpina",
}
# Thanks count as positive only when nothing in the message is negative.
POLITE_TERMS = "thank*, thx, cheers, merci*, bonne journee, dzieki*, dziekuj*, milego dnia"
NEGATORS = frozenset(
    "not no never nor without hardly dont doesnt didnt isnt wasnt cant wont havent hasnt"
    " pas ne n jamais aucun aucune rien sans ni nie ani bez nigdy zaden zadna zadne wcale".split()
)
INTENSIFIERS = frozenset(
    "very really so extremely totally absolutely incredibly too truly completely utterly"
    " tres vraiment trop tellement extremement hyper ultra si absolument completement"
    " totalement bardzo naprawde strasznie mega ogromnie totalnie zupelnie kompletnie tak"
    " niesamowicie wyjatkowo szalenie".split()
)
NEGATION_WINDOW = 3
EMOTICONS = {  # regular expression -> weight, matched on the raw text
    r"(?<![\w/]):-?[)\]D]|;-?\)|=\)|<3|[🙂😀😃😄😁😊😍🥰😘👍❤💕🎉👌🤩😎♥]": 1.0,
    r"(?<![\w/]):'?-?[(\[/]|>:-?\(|[😡😠🤬😞😢😭😤👎😒🙁☹😩😫💔😔😕]": -1.0,
}
POSITIVE_THRESHOLD = 0.5
NEGATIVE_THRESHOLD = -0.5

# --- Context -----------------------------------------------------------------------------
# context -> weight -> terms.
CONTEXT_TERMS = {
    "complaint": {
        3: "broken, broke, damag*, defect*, faulty, crack*, shatter*, smashed, scratch*, torn,"
        " ripped, wrong item, wrong product, wrong size, wrong colo*, cass*, abim*,"
        " brise*, ebrech*, fissur*, dechir*, troue*, mauvais produit, mauvais article,"
        " mauvaise taille, mauvaise couleur, uszkodz*, zepsu*, wadliw*, pekn*, stluc*, rozbit*,"
        " porysow*, rozdar*, zgniec*, rozpru*, zly kolor, zly rozmiar, zly produkt",
        2: "stopped working, not working, does not work, complain*, missing, leak*, poor quality,"
        " bad quality, fell apart, not as described, does not match, ne marche, ne fonctionne,"
        " reclamation*, plainte, pas le bon, il manque, non conforme, en panne,"
        " mauvaise qualite, qualite mediocre, reklamac*, nie dziala, przestal* dzialac,"
        " brakuje, niezgodn*, dziur*, slaba jakosc, kiepska jakosc",
        1: "wrong, manqu*, mauvais*, zly, zla",
    },
    "return": {
        2: "return*, refund*, money back, send back, send it back, sent back, exchange*,"
        " retour*, rembours*, echang*, renvoy*, retractation, zwrot*, zwroc*, odesl*,"
        " odsyl*, wymian*, wymieni*, odstapien*",
    },
    "payment": {
        2: "payment*, pay, paid, paying, paypal, invoice*, receipt, vat, charged, unpaid, billing,"
        " bank transfer, cash on delivery, klarna, paie*, paye*, facture*, carte bancaire,"
        " virement, debit*, preleve*, en plusieurs fois, platn*, placi*, zaplac*, oplac*,"
        " faktur*, blik*, przelew*, pobral*, pobrano, nip, paragon*, przy odbiorze, za pobraniem",
        1: "card, checkout, carte, cb, karta, karty, karte, karcie",
    },
    "shipping": {
        2: "deliver*, shipping, ship to, courier, tracking, parcel, package, postage, dpd, dhl,"
        " ups, gls, fedex, inpost*, pick it up, pick up, pickup, livr*, colis, suivi,"
        " transporteur, expedition, frais de port, point relais, colissimo, chronopost, dostaw*,"
        " dostarcz*, kurier*, paczk*, przesylk*, wysylk*, poczt*, sledz*, odebrac,"
        " odbior osobisty, doreczon*",
        1: "ship, address, arriv*, lost, delai*, adres*, doszl*, dotarl*",
    },
    "order_status": {
        3: "where is my order, where s my order, order status, status of my order,"
        " ou en est, status zamowienia, co z moim zamowieniem",
        2: "my order, shipped yet, been shipped, not shipped, dispatch*, cancel*, processing,"
        " any update, ma commande, statut, annuler, expediee, est partie, zamowien*, anulow*,"
        " realizac*, nadan*, wyslecie, wyslan*",
        1: "order*, placed, commande*, recevoir, zamowil*, zamawial*, status",
    },
    "product_question": {
        2: "size*, sizing, availab*, in stock, back in stock, colour*, color*, material*,"
        " made of, dimension*, how big, how large, fit, fits, compatible, does it, does this,"
        " do you have, do you sell, warranty, included, come with, comes with, fabric,"
        " waterproof, taille*, disponib*, en stock, couleur*, matiere*, existe,"
        " garanti*, fourni*, vendez vous, pointure, conseill*, rozmiar*, dostepn*, na stanie,"
        " w magazynie, kolor*, wymiar*, pasuje, kompatybil*, gwarancj*, w zestawie,"
        " z jakiego",
        1: "model*, stock, sell, sells, avez vous, faites vous, vendez*, proposez*,"
        " macie, sprzedaj*, czy ten, czy ta",
    },
    "other": {
        3: "discount code, promo code, code promo, kod rabat*, opening hours, sklep stacjonarny,"
        " boutique physique, godziny otwarcia",
        2: "log in, login, password, mot de passe, horaires, me connecter, se connecter,"
        " connexion, zalog*, newsletter",
        1: "discount, coupon, voucher, account, compte, konto, rabat*, promo*",
    },
}
# When two contexts score the same, the first one listed here wins.
CONTEXT_PRIORITY = (
    "complaint",
    "return",
    "payment",
    "shipping",
    "order_status",
    "product_question",
    "other",
)

# --- Language ----------------------------------------------------------------------------
STOPWORDS = {
    "en": "the is are was my your you it and of for this that with what where when how can could"
    " would please thanks thank hi hello have has not but still get got will any yet just there"
    " they we order",
    "fr": "le la les de des du un une et est je j vous votre vos mon mes pas ne n pour avec que"
    " qui c il elle sur au aux merci bonjour ce cette ou en sont ai suis l d qu ca svp salut",
    "pl": "w z na nie jest sie czy co jak mam moje moj moim mnie ze po jestem dzien dobry"
    " dziekuje dzieki prosze juz tak ale bo ten ta kiedy gdzie jaki jaka jakie macie mozna"
    " czemu dalej nadal witam czesc",
}
ACCENTS = {"pl": "ąćęłńśźżó", "fr": "àâçèéêëîïôùûüÿœ"}


@dataclass(frozen=True)
class Classification:
    """What a classifier says about one message."""

    sentiment: str  # one of vocab.SENTIMENTS
    context: str  # one of vocab.CONTEXTS
    language: str  # one of LANGUAGES


@runtime_checkable
class Classifier(Protocol):
    """What a host's own ``RESPONSO_CHAT_CLASSIFIER`` must implement.

    The plugin imports the class named by the setting, instantiates it once with no arguments
    and calls :meth:`classify` for each customer message; it must not raise.
    """

    def classify(self, text: str, subject: str = "") -> Classification:
        """Classify a message ``text`` (with its ticket ``subject``, possibly empty)."""
        ...


class _Lexicon:
    """Comma-separated terms compiled for fast, longest-first matching on word tokens."""

    def __init__(self, terms_by_weight: dict[float, str]):
        self._by_first_word: dict[str, list[tuple[tuple[str, ...], float]]] = {}
        for weight, terms in terms_by_weight.items():
            for term in terms.split(","):
                words = tuple(term.split())
                self._by_first_word.setdefault(words[0], []).append((words, weight))

    def find(self, tokens: list[str]) -> Iterator[tuple[int, int, float]]:
        """Yield ``(start, end, weight)`` of non-overlapping matches, left to right."""
        i = 0
        while i < len(tokens):
            match = self._match_at(tokens, i)
            if match:
                yield i, i + match[0], match[1]
                i += match[0]
            else:
                i += 1

    def _match_at(self, tokens: list[str], i: int) -> tuple[int, float] | None:
        token = tokens[i]
        keys = [token] + [token[:k] + "*" for k in range(1, len(token) + 1)]
        best = None
        for key in keys:
            for words, weight in self._by_first_word.get(key, ()):
                if (best is None or len(words) > best[0]) and _words_match(words, tokens, i):
                    best = (len(words), weight)
        return best


def _words_match(words: tuple[str, ...], tokens: list[str], start: int) -> bool:
    """Whether the lexicon term ``words`` matches ``tokens`` from ``start`` on."""
    candidates = tokens[start : start + len(words)]
    return len(candidates) == len(words) and all(
        token.startswith(word[:-1]) if word.endswith("*") else token == word
        for word, token in zip(words, candidates, strict=True)
    )


_SENTIMENT = _Lexicon(SENTIMENT_TERMS)
_POLITE = _Lexicon({1.0: POLITE_TERMS})
_CONTEXTS = {context: _Lexicon(terms) for context, terms in CONTEXT_TERMS.items()}
_EMOTICONS = [(re.compile(pattern), weight) for pattern, weight in EMOTICONS.items()]
_CLAUSE_BREAK = re.compile(r"[.!?;,:\n()]+|\b(?:but|mais|ale|however|cependant|jednak)\b")
_STOPWORD_SETS = {language: frozenset(words.split()) for language, words in STOPWORDS.items()}
_SPECIAL_LETTERS = str.maketrans({"ł": "l", "œ": "oe", "æ": "ae", "ß": "ss", "’": "'"})


def normalize(text: str) -> str:
    """Lower-case ``text`` and strip its accents ("Zażółć" -> "zazolc", "déçu" -> "decu")."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_SPECIAL_LETTERS))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return plain.replace("n't", " not")


def tokenize(normalized: str) -> list[str]:
    """Split normalized text into words (apostrophes and punctuation separate words)."""
    return re.findall(r"[^\W_]+", normalized)


def detect_language(text: str) -> str:
    """Best guess of the language of ``text``: "en", "fr" or "pl" (default "en")."""
    text = text[:MAX_CHARS]
    scores = dict.fromkeys(LANGUAGES, 0)
    for language, letters in ACCENTS.items():
        scores[language] += 2 * sum(char in letters for char in text.lower())
    for token in tokenize(normalize(text)):
        for language, words in _STOPWORD_SETS.items():
            scores[language] += token in words
    return max(LANGUAGES, key=scores.__getitem__)


def sentiment_score(text: str) -> float:
    """Signed sentiment of ``text``: above 0 is positive, below 0 negative."""
    positive = negative = 0.0
    polite = False
    for clause in _CLAUSE_BREAK.split(normalize(text)):
        tokens = tokenize(clause)
        for start, end, weight in _SENTIMENT.find(tokens):
            score = _adjust(
                weight, tokens[max(0, start - NEGATION_WINDOW) : start], tokens[start:end]
            )
            if score > 0:
                positive += score
            else:
                negative += score
        polite = polite or any(_POLITE.find(tokens))
    for pattern, weight in _EMOTICONS:
        hits = len(pattern.findall(text))
        if weight > 0:
            positive += weight * hits
        else:
            negative += weight * hits
    shouting = _is_shouting(text)
    if negative:
        negative *= (1 + 0.25 * min(text.count("!"), 4)) * (1.5 if shouting else 1)
    elif polite:
        positive += 1.0
    elif shouting and not positive:
        negative = -1.0  # a message in capitals with no other cue reads as angry
    return positive + negative


def _adjust(weight: float, before: list[str], term: list[str]) -> float:
    """Apply the intensifiers and negators found just ``before`` a ``term`` to its ``weight``.

    A term that holds its own negation ("still not", "rien recu") is not negated again.
    """
    if INTENSIFIERS.intersection(before[-2:]):
        weight *= 1.5
    if NEGATORS.intersection(before) and not NEGATORS.intersection(term):
        weight = -weight if weight > 0 else -0.75 * weight  # "not bad" is mildly positive
    return weight


def _is_shouting(text: str) -> bool:
    """Whether ``text`` is (mostly) written in capitals."""
    letters = [char for char in text if char.isalpha()]
    return len(letters) >= 6 and sum(char.isupper() for char in letters) > 0.7 * len(letters)


def context_scores(text: str) -> dict[str, float]:
    """How strongly ``text`` matches each context's lexicon."""
    tokens = tokenize(normalize(text))
    return {
        context: sum(weight for _start, _end, weight in lexicon.find(tokens))
        for context, lexicon in _CONTEXTS.items()
    }


class KeywordClassifier:
    """The default classifier: lexicons, negation and emphasis rules; offline and fast."""

    def classify(self, text: str, subject: str = "") -> Classification:
        """Classify a customer message; the ticket ``subject`` counts as part of it."""
        message = f"{subject or ''}\n{text or ''}"[:MAX_CHARS]
        score = sentiment_score(message)
        if score > POSITIVE_THRESHOLD:
            sentiment = "positive"
        elif score < NEGATIVE_THRESHOLD:
            sentiment = "negative"
        else:
            sentiment = "neutral"
        scores = context_scores(message)
        best = max(CONTEXT_PRIORITY, key=scores.__getitem__)
        if scores[best] <= 0 or scores["other"] > scores[best]:
            best = "other"
        return Classification(sentiment=sentiment, context=best, language=detect_language(message))
