"""The owner's first-person sentences in the second or third person, by rules, never by a model.

"I moved to Plymouth" becomes "You moved to Plymouth" (to the owner) and "Alex moved to Plymouth"
(about them): pronouns are swapped and the verb that follows the owner's name agrees with it
("I live" -> "Alex lives"). The first "I" of a sentence becomes the name and later ones the
owner's pronoun: "they" unless they set "she" or "he" (`[owner] pronouns`), so "Mrs Okafor lent me
her hoe and told me to weed" reads "... lent Sam her hoe and told her to weed". Nothing else is
touched, so a sentence says what the owner wrote; "we" stays "we". A diary sentence that leaves
its "I" out and starts with what the owner did ("Started as lead data engineer at Minster Maps")
gets the subject back ("Alex started as...", "You started as..."). A past or future self written
"future-me" or "2023-me" keeps its name: "future-Alex", "2023-Alex".
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?|\s+|.", re.S)
_ADVERBS = {
    "really", "also", "still", "never", "always", "often", "usually", "just", "only", "actually", "even",
    "mostly", "probably", "rarely", "sometimes", "already", "finally", "honestly", "frankly", "properly",
    "genuinely", "definitely", "certainly", "barely", "hardly", "mainly", "now", "then", "once", "clearly",
}  # fmt: skip
_MODALS = {
    "can", "could", "will", "would", "should", "must", "might", "may", "shall", "cannot", "can't", "won't",
    "wouldn't", "couldn't", "shouldn't", "mustn't", "did", "didn't", "was", "wasn't", "had", "hadn't",
}  # fmt: skip
_IRREGULAR_PAST = {
    "went", "made", "took", "got", "came", "saw", "said", "found", "gave", "ran", "bought", "thought", "told",
    "left", "felt", "kept", "began", "wrote", "met", "sat", "stood", "brought", "caught", "taught", "sold", "sent",
    "spent", "built", "lost", "won", "held", "led", "fell", "grew", "knew", "threw", "drew", "flew", "rode",
    "drove", "ate", "swam", "sang", "spoke", "broke", "chose", "woke", "wore", "forgot", "paid", "heard", "meant",
    "slept", "lay", "hung", "hit", "put", "set", "cut", "let", "quit", "shut", "became", "understood",
    "dug", "fed", "fought", "lit", "shot", "spun", "struck", "swung", "tore", "withdrew", "overslept", "mistook",
}  # fmt: skip
_PRESENT = {"am": "is", "'m": "is", "have": "has", "'ve": "has", "do": "does", "don't": "doesn't",
            "haven't": "hasn't", "aren't": "isn't", "go": "goes", "be": "is"}  # fmt: skip
_SECOND = {"i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "i'm": "you're",
           "i've": "you've", "i'd": "you'd", "i'll": "you'll"}  # fmt: skip
# The owner's pronoun after their name: subject, object, possessive, possessive pronoun, reflexive.
PRONOUNS = {
    "they": ("they", "them", "their", "theirs", "themselves"),
    "she": ("she", "her", "her", "hers", "herself"),
    "he": ("he", "him", "his", "his", "himself"),
}
_PARTICIPLES = {"been", "had", "done", "gone", "seen", "made", "taken", "got", "given", "known", "never"}


_LEADING_WORDS = re.compile(r"^([A-Z][a-z]+)\s+([a-z0-9])")
# "Fell shoes, a year of hill repeats...": a list of things, whatever its first word looks like.
_NOUN_LIST = re.compile(r"^\w+\s+[\w'’-]+,")


def subjectless_past(sentence: str) -> bool:
    """The sentence starts with a verb in the past tense and no subject: the owner's diary ("Moved to York")."""
    match = _LEADING_WORDS.match(sentence)
    if match is None or _NOUN_LIST.match(sentence):
        return False
    verb = match.group(1).lower()
    return verb in _IRREGULAR_PAST or (len(verb) > 4 and verb.endswith("ed") and not verb.endswith("eed"))


def _with_subject(sentence: str, subject: str) -> str:
    return f"{subject} {sentence[:1].lower()}{sentence[1:]}"


def _plain(token: str) -> str:
    return token.lower().replace("’", "'")


def _case_like(original: str, replacement: str, start: bool) -> str:
    if start or (original[:1].isupper() and original.lower() not in ("i", "i'm", "i've", "i'd", "i'll")):
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _third_person_verb(word: str) -> str:
    plain = _plain(word)
    if plain in _PRESENT:
        return _PRESENT[plain]
    past = plain.endswith("ed") and not plain.endswith("eed")  # "moved", not "need"
    if plain in _MODALS or plain in _IRREGULAR_PAST or past or plain.endswith("n't"):
        return word
    if re.search(r"(s|sh|ch|x|z|o)$", plain):
        return word + "es"
    if re.search(r"[^aeiou]y$", plain):
        return word[:-1] + "ies"
    return word + "s"


def to_second(sentence: str) -> str:
    """Addressed to the owner: "I was" -> "you were", "my" -> "your"."""
    if subjectless_past(sentence):
        sentence = _with_subject(sentence, "I")
    tokens = _TOKEN.findall(sentence)
    out: list[str] = []
    words_seen = 0
    for index, token in enumerate(tokens):
        plain = _plain(token)
        if plain in _SECOND:
            out.append(_case_like(token, _SECOND[plain], words_seen == 0))
        elif plain in ("am", "was", "wasn't") and _after_i(tokens, index):
            out.append({"am": "are", "was": "were", "wasn't": "weren't"}[plain])
        else:
            out.append(token)
        if token.strip() and token[0].isalpha():
            words_seen += 1
    return "".join(out)


def _after_i(tokens: list[str], index: int) -> bool:
    """The word at `index` has "I" as its subject (skipping spaces and adverbs before it)."""
    back = index - 1
    while back >= 0 and (not tokens[back].strip() or _plain(tokens[back]) in _ADVERBS):
        back -= 1
    return back >= 0 and tokens[back] == "I"


def to_third(sentence: str, name: str, pronouns: str = "they") -> str:
    """About the owner: the first "I" becomes their name (its verb agreeing), later ones their pronoun."""
    name = name.strip() or "the owner"
    subject, obj, possessive, possessive_pronoun, reflexive = PRONOUNS.get(pronouns, PRONOUNS["they"])
    plural = subject == "they"
    later = {
        "i": subject,
        "i'm": f"{subject}'re" if plural else f"{subject}'s",
        "i've": f"{subject}'ve" if plural else f"{subject}'s",
        "i'd": f"{subject}'d",
        "i'll": f"{subject}'ll",
        "me": obj,
        "myself": reflexive,
        "my": possessive,
        "mine": possessive_pronoun,
    }
    if subjectless_past(sentence):
        sentence = _with_subject(sentence, "I")
    tokens = _TOKEN.findall(sentence)
    out: list[str] = []
    named = False
    agree = False  # the next verb must agree with the name (or a singular pronoun)
    words_seen = 0
    for index, token in enumerate(tokens):
        plain = _plain(token)
        is_word = bool(token.strip()) and token[0].isalpha()
        start = words_seen == 0
        replacement: str | None = None
        if plain in ("i", "me") and index and tokens[index - 1] == "-":  # "future-me", "2023-me": a name
            replacement = name.split()[0]
        elif plain in ("i", "i'm", "i've", "i'd", "i'll"):
            if not named:
                owner = _case_like(token, name, start) if name == "the owner" else name
                contracted = {"i'm": " is", "i've": " has", "i'd": " would", "i'll": " will"}.get(plain, "")
                replacement = owner + contracted
                agree = plain == "i"
                named = True
            else:
                replacement = _case_like(token, later[plain], start)
                agree = plain == "i" and not plural
        elif plain in ("me", "myself", "my", "mine"):
            if not named and plain != "myself":
                replacement = name + ("'s" if plain in ("my", "mine") else "")
                named = True
            else:
                replacement = _case_like(token, later[plain], start)
        elif agree and is_word:
            if plain in _ADVERBS:
                replacement = token
            else:
                replacement = _third_person_verb(token)
                agree = False
        out.append(token if replacement is None else replacement)
        if is_word:
            words_seen += 1
    text = "".join(out)
    # "they am" / "they was" after a second "I"
    return re.sub(r"\b([Tt]hey) (am|was)\b", lambda m: f"{m.group(1)} {'are' if m.group(2) == 'am' else 'were'}", text)
