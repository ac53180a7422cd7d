"""Korean address and speech level from the relation, and each occasion's usual phrase.

A tiny model cannot work out that a younger brother gets 반말 and a manager gets 존댓말 and
"박민수 부장님". This table does it, and the prompt shows the model the result (issue 17).

Speech levels: ``banmal`` (반말: 친구, 동생, 아들…), ``polite`` (해요체/하십시오체: 부장님,
선생님, 할머니, 고객님…), ``either`` (아내, 남편, 엄마, 아빠…: follows the tone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Level = Literal["banmal", "polite"]
Relation = Literal[
    "partner",
    "parent",
    "grandparent",
    "child",
    "younger",  # younger sibling, cousin, niece, nephew, grandchild
    "older",  # older sibling, aunt, uncle (family elders below grandparents)
    "friend",
    "colleague",
    "boss",
    "teacher",
    "senior",  # 선배: older at school or work, not a manager
    "student",
    "client",
    "neighbor",
    "group",
    "other",
]

# relation word → (class, default level, polite only when the tone asks for it)
# "either" relations take 반말 unless the tone is polite (공손하게, 정중하게…).
_RELATIONS: dict[str, tuple[Relation, Level | Literal["either"]]] = {}


def _add(cls: Relation, level: Level | Literal["either"], words: str) -> None:
    for word in words.split():
        _RELATIONS[word.replace("_", " ")] = (cls, level)


_add("friend", "banmal", "친구 절친 베프 단짝 동창 친한_친구 소꿉친구 friend best_friend buddy pal")
_add("younger", "banmal", "동생 남동생 여동생 막내 조카 손자 손녀 사촌동생 사촌")
_add("younger", "banmal", "brother sister sibling cousin niece nephew grandson granddaughter")
_add("child", "banmal", "아들 딸 자녀 우리_아들 우리_딸 son daughter kid child")
_add("student", "banmal", "제자 후배 student mentee")
_add("partner", "either", "아내 와이프 부인 남편 신랑 신부 여자친구 남자친구 여친 남친 애인 연인")
_add("partner", "either", "wife husband girlfriend boyfriend partner fiancé fiancée spouse")
_add("parent", "either", "엄마 아빠 mom dad mother father mum")
_add("parent", "polite", "어머니 아버지 어머님 아버님 부모님 장모님 장인어른 시어머니 시아버지")
_add("parent", "polite", "mother-in-law father-in-law parents")
_add("grandparent", "polite", "할머니 할아버지 외할머니 외할아버지 grandmother grandfather")
_add("grandparent", "polite", "grandma grandpa")
_add("older", "polite", "형 오빠 누나 언니 형님 이모 고모 삼촌 외삼촌 큰아버지 작은아버지 숙모")
_add("older", "polite", "이모부 고모부 aunt uncle")
_add("colleague", "polite", "동료 직장_동료 회사_동료 동기 colleague coworker co-worker")
_add("boss", "polite", "상사 직장_상사 부장님 과장님 차장님 팀장님 실장님 대리님 사장님 대표님")
_add(
    "boss", "polite", "이사님 본부장님 원장님 부장 과장 차장 팀장 실장 사장 대표 이사 boss manager"
)
_add("senior", "polite", "선배 선배님 사수 sunbae")
_add("teacher", "polite", "선생님 교수님 은사님 스승님 담임_선생님 teacher professor coach mentor")
_add("client", "polite", "고객 고객님 거래처 거래처_담당자 손님 회원님 client customer")
_add("neighbor", "polite", "이웃 이웃집 neighbor neighbour")
_add("group", "polite", "팀 팀원 팀원들 여러분 직원 직원들 team everyone staff")

# 형/오빠/누나/언니 are usually spoken to in 반말 by their younger siblings.
for _word in ("형", "오빠", "누나", "언니"):
    _RELATIONS[_word] = ("older", "banmal")

# Titles a Korean addresses someone by, and the honorific they take.
_TITLE_WORDS = (
    "부장",
    "과장",
    "차장",
    "팀장",
    "실장",
    "대리",
    "사장",
    "대표",
    "이사",
    "본부장",
    "원장",
    "선배",
    "선생",
    "교수",
    "고객",
    "회원",
)
# Kin terms used as the address itself (you call your grandmother "할머니", not by name).
_KIN_ADDRESS = {
    "아주머니",
    "여러분",
    "고객님",
    "회원님",
    "손님",
    "아저씨",
    "사모님",
    "엄마",
    "아빠",
    "어머니",
    "아버지",
    "어머님",
    "아버님",
    "부모님",
    "장모님",
    "장인어른",
    "시어머니",
    "시아버지",
    "할머니",
    "할아버지",
    "외할머니",
    "외할아버지",
    "형",
    "오빠",
    "누나",
    "언니",
    "형님",
    "이모",
    "고모",
    "삼촌",
    "외삼촌",
    "큰아버지",
    "작은아버지",
    "숙모",
    "이모부",
    "고모부",
}
_POLITE_TONE = re.compile(r"공손|정중|격식|예의|존댓|존중|깍듯|점잖|polite|formal|respectful")
_CASUAL_TONE = re.compile(r"반말|편하게|친근|장난|발랄|귀엽|casual|playful")
_SURNAMES = set(
    "김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구민진나엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용"
)
_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3


def has_batchim(word: str) -> bool:
    """Whether the last Hangul syllable of `word` ends in a consonant (받침): 민수 no, 지영 yes."""
    for char in reversed(word):
        code = ord(char)
        if _HANGUL_FIRST <= code <= _HANGUL_LAST:
            return (code - _HANGUL_FIRST) % 28 != 0
    return False


def vocative(name: str) -> str:
    """The friendly call: 지영 → 지영아, 민수 → 민수야."""
    return name + ("아" if has_batchim(name) else "야")


def _hangul(text: str) -> bool:
    return bool(text) and all(_HANGUL_FIRST <= ord(c) <= _HANGUL_LAST for c in text)


def given_name(name: str) -> str:
    """박민수 → 민수 (a three-syllable Korean name with a common surname); others unchanged."""
    name = name.strip()
    if len(name) == 3 and _hangul(name) and name[0] in _SURNAMES:
        return name[1:]
    return name


@dataclass(frozen=True)
class Address:
    relation: Relation
    level: Level
    address: str  # how the message calls them: "지영아", "박민수 부장님", "할머니", "" (no name)

    @property
    def label(self) -> str:
        return "반말" if self.level == "banmal" else "존댓말"


def relation_class(relation: str) -> tuple[Relation, Level | Literal["either"]]:
    """The class and default speech level of a relation word (Korean or English)."""
    text = " ".join(relation.lower().split())
    if text in _RELATIONS:
        return _RELATIONS[text]
    # "회사 부장님", "my best friend", "대학 동기": the longest known word inside decides.
    for word in sorted(_RELATIONS, key=len, reverse=True):
        if len(word) >= 2 and word in text:
            return _RELATIONS[word]
    for title in _TITLE_WORDS:
        if title in text:
            return ("boss", "polite")
    return ("other", "polite")


def _title_of(text: str) -> str | None:
    """부장님 for "부장님", "박 부장", "회사 부장님"; None when no title is in the text."""
    for title in sorted(_TITLE_WORDS, key=len, reverse=True):
        if title in text:
            return title + "님"
    return None


def address(name: str | None, relation: str, manner: str | None = None) -> Address:
    """Speech level and form of address for a Korean message."""
    cls, default = relation_class(relation)
    tone = (manner or "").lower()
    if default == "either":
        level: Level = "polite" if _POLITE_TONE.search(tone) else "banmal"
    else:
        level = default
    name = " ".join((name or "").split())
    relation_text = " ".join(relation.split())
    if not name:
        if relation_text in _KIN_ADDRESS:
            return Address(cls, level, relation_text)
        if cls == "client":
            return Address(cls, "polite", "고객님")
        if cls == "group":
            return Address(cls, "polite", "여러분")
        title = _title_of(relation_text) if cls == "boss" else None
        return Address(cls, level, title or "")
    # A name that is already a title or a kin term is the address as it is.
    if name in _KIN_ADDRESS:
        return Address(cls, level, name)
    if name.endswith(("님", "씨")) or _title_of(name.replace(" ", "")):
        if name.endswith(tuple(t for t in _TITLE_WORDS)):
            name += "님"  # "박 부장" → "박 부장님"
        return Address(cls, "polite" if cls != "friend" else level, name)
    if not _hangul(name.replace(" ", "")):
        # A foreign name: "Tom아" reads oddly; the bare name, or 님 when polite.
        return Address(cls, level, name if level == "banmal" else f"{name} 님")
    if cls in ("parent", "grandparent", "older") and relation_text in _KIN_ADDRESS:
        return Address(cls, level, relation_text)  # 엄마, 할머니, 이모: not by name
    if level == "banmal":
        return Address(cls, level, vocative(given_name(name)))
    title = _title_of(relation_text.replace(" ", ""))
    if title and cls in ("boss", "teacher", "client"):
        return Address(cls, level, f"{name} {title}")  # 박민수 부장님, 김지영 선생님
    if cls == "teacher":
        return Address(cls, level, f"{name} 선생님")
    if cls == "senior":
        return Address(cls, level, f"{given_name(name)} 선배님")  # 수아 선배님, not 최수아 씨
    if cls == "boss":
        return Address(cls, level, f"{name} 님")
    if cls == "partner":
        return Address(cls, level, f"{given_name(name)} 씨")
    if cls in ("colleague", "neighbor", "other"):
        return Address(cls, level, f"{name} 씨")
    return Address(cls, level, f"{name} 님")


# The usual phrase for each occasion, in 반말 and in 존댓말.
PHRASES: dict[str, tuple[str, str]] = {
    "lunar_new_year": ("새해 복 많이 받아", "새해 복 많이 받으세요"),
    "new_year": ("새해 복 많이 받아", "새해 복 많이 받으세요"),
    "chuseok": ("즐거운 추석 보내", "풍성한 한가위 보내세요"),
    "birthday": ("생일 축하해", "생신 축하드려요"),
    "christmas": ("메리 크리스마스", "즐거운 성탄절 보내세요"),
    "year_end": ("한 해 수고 많았어", "한 해 동안 수고 많으셨습니다"),
    "wedding": ("결혼 축하해", "결혼 진심으로 축하드립니다"),
    "anniversary": ("결혼기념일 축하해", "결혼기념일 축하드려요"),
    "graduation": ("졸업 축하해", "졸업 축하드려요"),
    "admission": ("입학 축하해", "입학 축하드려요"),
    "exam": ("합격 축하해", "합격 축하드려요"),
    "new_job": ("취업 축하해", "취업 축하드려요"),
    "job_change": ("이직 축하해", "이직 축하드려요"),
    "promotion": ("승진 축하해", "승진 축하드립니다"),
    "retirement": ("그동안 정말 수고 많았어", "그동안 정말 수고 많으셨습니다"),
    "get_well": ("얼른 나아", "빠른 쾌유를 빕니다"),
    "thanks": ("정말 고마워", "진심으로 감사드립니다"),
    "parents_day": ("낳아 주시고 길러 주셔서 고마워", "낳아 주시고 길러 주셔서 감사합니다"),
    "teachers_day": ("고마워", "스승의 날을 맞아 감사드립니다"),
    "baby": ("출산 축하해", "출산 축하드려요"),
    "enlistment": ("몸 건강히 잘 다녀와", "몸 건강히 잘 다녀오세요"),
    "discharge": ("전역 축하해", "전역 축하드려요"),
    "housewarming": ("집들이 축하해", "새집 마련 축하드려요"),
    "farewell": ("그동안 고마웠어", "그동안 감사했습니다"),
    "apology": ("정말 미안해", "정말 죄송합니다"),
    "condolences": ("얼마나 힘들지 마음이 아파", "삼가 고인의 명복을 빕니다"),
    "valentine": ("사랑해", "사랑해요"),
    "cheer": ("힘내", "힘내세요"),
    # Issue 26's occasions.
    "exam_cheer": ("시험 잘 봐", "좋은 결과 있을 거예요"),
    "send_off": ("가서도 잘 지내", "가서도 잘 지내세요"),
    "first_birthday": ("첫돌 축하해", "첫돌 축하드려요"),
    "hundred_days": ("백일 축하해", "백일 축하드려요"),
    "big_birthday": ("생신 축하해", "생신 진심으로 축하드립니다"),
    "opening": ("개업 축하해", "개업을 진심으로 축하드립니다"),
    "founding": ("창립 축하해", "창립을 진심으로 축하드립니다"),
    "recommendation": ("추천서 써 줘서 고마워", "추천서 써 주셔서 감사합니다"),
    "recovery": ("퇴원 축하해", "퇴원 축하드려요"),
    "easter": ("행복한 부활절 보내", "기쁜 부활절 보내세요"),
    "diwali": ("행복한 디왈리 보내", "행복한 디왈리 보내세요"),
    "eid": ("이드 무바라크", "즐거운 이드 보내세요"),
    "hanukkah": ("행복한 하누카 보내", "행복한 하누카 보내세요"),
}


def phrase(occasion: str, level: Level, relation: Relation = "other") -> str | None:
    """The occasion's usual phrase at this level ("새해 복 많이 받으세요" for 설날)."""
    pair = PHRASES.get(occasion)
    if pair is None:
        return None
    banmal, polite = pair
    if level == "banmal":
        return banmal
    if occasion == "birthday" and relation not in ("parent", "grandparent", "older"):
        return "생일 축하드려요"  # 생신 is for elders
    return polite


# Reading a message's speech level (for the evaluation and the bank's own test).
_SENTENCE = re.compile(r"[^.!?…~～。！？\n]+")
_POLITE_END = re.compile(r"(?:요|니다|니까|세요|시오|십시오|소서)$")
_BANMAL_END = re.compile(
    r"(?:해|야|아|어|지|자|래|줘|게|라|네|다|걸|봐|와|워|군|구나|냐|까|거든|대|께|렴|마|돼|가|해라|보자)$"
)
_NOT_HANGUL = re.compile(r"[^\uac00-\ud7a3]+$")


def sentence_levels(message: str, skip: tuple[str, ...] = ()) -> list[str]:
    """Each sentence's level by its final word: "polite", "banmal" or "neutral" (a noun, a
    name, an exclamation such as "메리 크리스마스"). Sentences that are only a form of
    address (`skip`, e.g. "지영아") are left out."""
    levels = []
    for sentence in _SENTENCE.findall(message):
        words = sentence.split()
        if not words:
            continue
        last = _NOT_HANGUL.sub("", words[-1])
        if not last or " ".join(words).strip(",") in skip or last in skip:
            continue
        if _POLITE_END.search(last):
            levels.append("polite")
        elif _BANMAL_END.search(last):
            levels.append("banmal")
        else:
            levels.append("neutral")
    return levels


# 반말's "you" ("널 사랑합니다" to a teacher, a grandfather, a client: the hand read of issue 26's
# length run). One does not say 너 to someone one speaks to in 존댓말, whatever the ending.
_YOU_BANMAL = re.compile(
    r"(?<![가-힣])(?:너(?:를|의|도|와|랑|한테|에게|는)?|널|네가|니가)(?![가-힣])"
)


def level_fits(message: str, name: str | None, relation: str, manner: str | None) -> bool:
    """존댓말 throughout to a 부장님, 반말 to a younger brother; either to a wife or a mother."""
    form = address(name, relation, manner)
    if relation_class(relation)[1] == "either":
        return True
    skip = tuple(x for x in (form.address, name or "") if x)
    levels = sentence_levels(message, skip)
    if form.level == "banmal":
        return "polite" not in levels
    return "banmal" not in levels and "polite" in levels and not _YOU_BANMAL.search(message)


def _called_bare(text: str, name: str, form: Address) -> bool:
    """The name alone, called out ("최수아, 이직 축하드려요!"), where a title, 씨 or a kin word
    is due (the hand reads of issue 26: never sendable)."""
    if form.level == "banmal" and form.address not in _KIN_ADDRESS:
        return False  # "서연아" or "이서연," to a junior: both are said
    names = {" ".join(name.split()), given_name(name)} - {form.address}
    names = {one for one in names if _hangul(one.replace(" ", ""))}
    if not names:
        return False
    pattern = "|".join(re.escape(one) for one in sorted(names, key=len, reverse=True))
    return bool(re.search(rf"(?<![\uac00-\ud7a3])(?:{pattern})\s*[,!]", text))


def address_slips(message: str, name: str | None, relation: str, manner: str | None) -> bool:
    """A form of address that is wrong wherever it stands, so that the start of a message can
    be judged before the rest exists: "준호아" for 준호야, "수민야" for 수민아, "준호 씨" to a
    friend, or "준호야" to someone owed 존댓말."""
    form = address(name, relation, manner)
    if not form.address or not name or not _hangul(name.replace(" ", "")):
        return False
    text = " ".join(message.split())
    if _called_bare(text, name, form):
        return True  # "김지훈, 그동안…" to 김지훈 팀장님, "은지, 출산 축하해!" to 언니
    if form.address in _KIN_ADDRESS:
        return False
    given = re.escape(given_name(name))
    end = r"(?=[\s,.!?~]|$)"
    wrong_particle = "야" if has_batchim(given_name(name)) else "아"
    if re.search(given + wrong_particle + end, text):
        return True  # "준호아", "수민야": wrong to anyone
    if relation_class(relation)[1] == "either":
        return False  # "민지야" or "민지 씨" to a wife: both are said
    if form.level == "banmal":
        return bool(re.search(given + r"\s?(?:씨|님)", text))
    return bool(re.search(given + r"(?:아|야)" + end, text))


def address_fits(message: str, name: str | None, relation: str, manner: str | None) -> bool:
    """The form of address fits the relation: "지영아", not "지영 씨", to a friend; "박민수
    부장님", not "박민수", to a manager; "수진 씨", not "수진아", to a colleague."""
    if address_slips(message, name, relation, manner):
        return False  # "현우아" is wrong even where either form of address is said
    form = address(name, relation, manner)
    text = " ".join(message.split())
    if not form.address or not name:
        return True
    if form.address in _KIN_ADDRESS or not _hangul(name.replace(" ", "")):
        return True
    if relation_class(relation)[1] == "either":
        return True  # "민지야" or "민지 씨" to a wife: both are said
    if form.level == "banmal":
        # Present; its slips ("준호아", "준호 씨") were refused by address_slips above.
        return given_name(name) in text
    title = _title_of(form.address.replace(" ", ""))
    if title:
        return title in text.replace(" ", "")
    if form.address.endswith(("씨", "님")):
        return bool(re.search(re.escape(given_name(name)) + r"\s?(?:씨|님)", text))
    return True
