"""Written texts of the bundled sample site: 30 articles, half Korean, half English.

Every text here was written for the sample site; names of people, companies, bands and events are
invented. Five recurring topics grow towards the most recent days so that trend detection has
something to find; the rest are one-off stories. `days_ago` counts back from the build's `today`.
"""

from __future__ import annotations

from dataclasses import dataclass

TOPICS: dict[str, tuple[str, str]] = {
    "camping-boom": ("20~30대 캠핑·차박 인기", "Young adults take up camping and car camping"),
    "chip-exports": ("반도체 수출 급증", "Semiconductor exports surge"),
    "kpop-world-tour": ("루미나 월드투어", "LUMINA world tour"),
    "ai-chip-launch": ("노래랩스 AI 칩 출시", "Norae Labs AI chip launch"),
    "riverside-marathon": ("한강 리버사이드 마라톤", "Seoul Riverside Marathon"),
}

CATEGORIES: dict[str, tuple[str, str]] = {
    "life": ("라이프", "Life"),
    "economy": ("경제", "Economy"),
    "entertainment": ("연예", "Entertainment"),
    "politics": ("정치", "Politics"),
    "society": ("사회", "Society"),
    "sports": ("스포츠", "Sports"),
    "tech": ("IT·과학", "Tech"),
    "world": ("국제", "World"),
    "culture": ("문화", "Culture"),
}


@dataclass(frozen=True)
class ArticleText:
    """One written article; `video` is None, "inline" (a <video> element) or "og" (og:video only)."""

    slug: str
    lang: str
    category: str
    topic: str | None
    days_ago: int
    title: str
    author: str
    summary: str
    paragraphs: tuple[str, ...]
    captions: tuple[str, ...]
    video: str | None = None
    embed: str | None = None


ARTICLES: tuple[ArticleText, ...] = (
    # ---------------------------------------------------------------- camping-boom (ko x4, en x1)
    ArticleText(
        slug="camping-weekend-reservations",
        lang="ko",
        category="life",
        topic="camping-boom",
        days_ago=5,
        title="주말 캠핑장 예약 '하늘의 별 따기'…2030 이용객 두 배로",
        author="김서연",
        summary="수도권 캠핑장 주말 예약이 열리자마자 마감되고 있다. 이용객 절반 이상이 20~30대다.",
        paragraphs=(
            "경기 가평의 한 오토캠핑장은 매달 1일 오전 10시에 다음 달 주말 예약을 연다. 운영자 "
            "윤모 씨는 \"예약 창이 열리고 4분 만에 60개 사이트가 모두 찼다\"며 \"작년 이맘때만 해도 "
            "금요일 저녁까지 빈자리가 있었다\"고 말했다.",
            "캠핑장 예약 플랫폼 '숲길'이 집계한 자료를 보면 올가을 수도권 캠핑장 예약 가운데 "
            "20~30대 명의 예약이 54%를 차지했다. 3년 전 비중은 27%였다. 가족 단위 중심이던 "
            "이용객 구성이 친구, 연인, 혼자 온 손님으로 넓어졌다는 분석이다.",
            "직장인 이다은(29) 씨는 대학 동기 세 명과 한 달에 한 번 캠핑을 간다. 그는 \"호텔보다 "
            "싸고, 휴대전화를 덜 보게 되는 게 가장 좋다\"며 \"장비는 처음에 중고로 하나씩 "
            "모았다\"고 했다.",
            "예약 경쟁이 치열해지자 평일 캠핑이나 당일 피크닉 상품을 내놓는 곳도 늘고 있다. "
            "업계에서는 겨울철에도 수요가 크게 줄지 않을 것으로 본다.",
        ),
        captions=("가평의 한 오토캠핑장에 텐트가 빼곡히 들어서 있다", "예약 마감 안내가 떠 있는 휴대전화 화면"),
    ),
    ArticleText(
        slug="chabak-solo-travelers",
        lang="ko",
        category="life",
        topic="camping-boom",
        days_ago=2,
        title="차 안에서 하룻밤…'나 홀로 차박' 즐기는 30대 늘었다",
        author="이도윤",
        summary="SUV 뒷좌석을 접어 잠자리를 만드는 차박이 혼자 떠나는 30대 사이에서 인기다.",
        paragraphs=(
            "강원 양양 바닷가 공영주차장. 해가 지자 트렁크를 열고 매트를 까는 차량이 하나둘 "
            "늘어난다. 서울에서 온 회사원 강민호(34) 씨는 \"금요일 퇴근하고 바로 출발하면 밤 "
            "10시 전에 도착한다\"며 \"파도 소리 들으면서 자는 게 일주일의 보상\"이라고 말했다.",
            "차박은 텐트를 치지 않고 자동차 안에서 잠을 자는 여행 방식이다. 장비가 적게 들고 "
            "예약이 필요 없는 곳이 많아 혼자 떠나는 여행자에게 특히 인기다. 한 중고차 거래 앱에서는 "
            "올해 '차박 가능' 문구를 단 SUV 매물 조회 수가 지난해보다 70% 늘었다.",
            "다만 지자체들은 고민이 깊다. 일부 해변과 계곡에서는 쓰레기와 공회전 소음 민원이 "
            "잇따르자 야간 주차를 제한하는 안내판을 세웠다. 양양군 관계자는 \"지정된 차박 구역을 "
            "내년까지 세 곳 더 만들 계획\"이라고 밝혔다.",
            "전문가들은 밀폐된 차 안에서 난방기를 켜고 자는 것은 위험하다고 경고한다. 창문을 "
            "조금 열어 환기하고, 일산화탄소 경보기를 갖추는 것이 기본이라는 설명이다.",
            "캠핑 동호회 운영자 박세진 씨는 \"처음엔 주차장 한 칸이면 충분하다고 생각하지만, "
            "결국 화장실과 개수대가 있는 곳을 찾게 된다\"며 \"머문 자리를 원래대로 두는 습관이 "
            "차박 문화를 지키는 길\"이라고 말했다.",
        ),
        captions=("양양 해변 주차장에서 차박을 준비하는 차량들", "뒷좌석을 접어 매트를 깐 SUV 내부", "해 질 녘 바다를 바라보는 여행자"),
        video="inline",
    ),
    ArticleText(
        slug="camping-gear-rental-startups",
        lang="ko",
        category="life",
        topic="camping-boom",
        days_ago=1,
        title="텐트부터 버너까지 빌려 쓴다…캠핑 장비 대여 서비스 '호황'",
        author="최하은",
        summary="장비 구입 부담을 줄이려는 캠핑 입문자들이 대여 서비스로 몰리고 있다.",
        paragraphs=(
            "캠핑을 시작하려면 텐트, 의자, 테이블, 버너, 침낭까지 수십만 원이 든다. 이 문턱을 "
            "낮춘 것이 장비 대여 서비스다. 1박 기준 3만~5만 원에 필요한 장비를 한 상자에 담아 "
            "캠핑장으로 보내 준다.",
            "대여 스타트업 '캠프박스'는 올해 3분기 주문이 전 분기보다 두 배 가까이 늘었다고 "
            "밝혔다. 주문자의 평균 나이는 31세로, 첫 주문 고객 가운데 40%가 석 달 안에 다시 "
            "빌렸다.",
            "회사원 서지민(27) 씨는 \"살지 말지 고민하던 장비를 먼저 써 볼 수 있어서 좋았다\"며 "
            "\"두 번 빌려 써 보고 마음에 든 의자만 샀다\"고 했다.",
            "업체들은 세척과 수선에 가장 많은 비용을 쓴다. 반납된 텐트는 물로 씻고 그늘에서 "
            "이틀을 말린 뒤 찢어진 곳을 확인한다. 캠프박스 대표는 \"장비 관리가 곧 브랜드\"라며 "
            "\"겨울 대비 난방 장비 대여도 이달부터 시작했다\"고 말했다.",
        ),
        captions=("대여용 캠핑 장비가 상자에 담겨 출고를 기다리고 있다",),
    ),
    ArticleText(
        slug="camping-boom-winter-season",
        lang="ko",
        category="life",
        topic="camping-boom",
        days_ago=0,
        title="겨울에도 식지 않는 캠핑 열기…2030 '동계 캠핑' 검색량 급증",
        author="김서연",
        summary="추위에도 캠핑 수요가 이어지면서 동계 캠핑 관련 검색과 예약이 크게 늘었다.",
        paragraphs=(
            "첫 한파 특보가 내려진 이번 주에도 캠핑장 예약 열기는 식지 않았다. 한 포털의 검색어 "
            "통계에 따르면 최근 일주일 '동계 캠핑' 검색량은 지난해 같은 기간보다 세 배 가까이 "
            "많았고, 검색한 사람의 60% 이상이 20~30대였다.",
            "젊은 캠퍼들이 겨울을 찾는 이유는 분명하다. 벌레가 없고, 사람이 적고, 난로 앞에 "
            "둘러앉는 분위기가 특별하다는 것이다. 대학원생 정유나(26) 씨는 \"눈 내린 숲에서 끓여 "
            "먹는 라면 맛은 다른 계절에 못 느낀다\"고 말했다.",
            "캠핑장들도 겨울 손님 맞이에 나섰다. 전기 사용이 가능한 사이트를 늘리고, 온수가 "
            "나오는 샤워실을 24시간 여는 곳이 많아졌다. 포천의 한 캠핑장은 12월 주말 예약이 "
            "이미 90% 찼다.",
            "소방 당국은 텐트 안 화재와 일산화탄소 중독 사고를 막기 위해 난로 주변에 가연물을 "
            "두지 말고, 잠들기 전에는 반드시 연소형 난방기를 끄라고 당부했다.",
            "업계는 캠핑이 한때의 유행을 넘어 20~30대의 생활 방식으로 자리 잡고 있다고 본다. "
            "한 아웃도어 브랜드 관계자는 \"여름 장비보다 겨울 장비 매출이 더 빨리 늘고 있다\"며 "
            "\"사계절 캠핑이 새로운 기준이 됐다\"고 설명했다.",
        ),
        captions=("눈 덮인 캠핑장에 불을 밝힌 텐트들", "난로 앞에 모여 앉은 캠핑객들"),
        video="inline",
    ),
    ArticleText(
        slug="korea-young-campers-car-camping",
        lang="en",
        category="life",
        topic="camping-boom",
        days_ago=0,
        title="Why Koreans in their 20s and 30s are sleeping in their cars on purpose",
        author="Maya Collins",
        summary="Car camping, or chabak, has become a weekend ritual for young Korean office workers.",
        paragraphs=(
            "On a Friday night in late autumn, the car park above a beach on Korea's east coast looks "
            "less like a car park than a village. Hatchbacks stand open, fairy lights hang from roof "
            "racks, and people in their twenties and thirties sit on folding stools sharing instant "
            "noodles.",
            "The practice is called chabak, a contraction of the Korean words for car and overnight "
            "stay. It needs no reservation at many sites and little gear beyond a mattress that fits "
            "the folded back seats, which makes it attractive to people who cannot plan weeks ahead.",
            "Booking platforms say the age profile of campers has shifted sharply. Groups of friends "
            "and solo travellers, rather than families, now fill many weekend pitches near Seoul, and "
            "searches for winter camping have climbed steeply over the past week.",
            "Local governments are trying to keep up. Some coastal counties have marked out "
            "designated areas with toilets and bins after complaints about litter and idling engines, "
            "while safety officials warn against running fuel heaters inside closed vehicles.",
            "For many of the campers, the appeal is simple. \"It is the cheapest way to see the sea "
            "after a long week,\" said one 32-year-old designer who drives out twice a month. \"And "
            "nobody asks you to check your email.\"",
        ),
        captions=("Cars parked with their tailgates open above an east-coast beach",),
    ),
    # ---------------------------------------------------------------- chip-exports (ko x2, en x3)
    ArticleText(
        slug="chip-exports-october-record",
        lang="en",
        category="economy",
        topic="chip-exports",
        days_ago=4,
        title="Chip shipments lift exports to a four-year high",
        author="Daniel Reyes",
        summary="Semiconductor shipments grew by more than a third from a year earlier, driving overall exports.",
        paragraphs=(
            "South Korea's exports rose for a fourteenth straight month, carried almost entirely by "
            "memory chips, according to preliminary customs figures released on Monday.",
            "Semiconductor shipments climbed 37 percent from a year earlier, the fastest pace since "
            "early 2021. High-bandwidth memory used in artificial-intelligence servers accounted for "
            "a growing share, analysts said, while demand for chips in phones and laptops stayed flat.",
            "Excluding semiconductors, exports were roughly unchanged, a reminder of how dependent the "
            "trade balance has become on a single industry. Car exports slipped slightly and "
            "petrochemicals fell for a third month as prices weakened.",
            "Economists at a Seoul brokerage raised their growth forecast for next year by two tenths "
            "of a percentage point, citing chip orders that already stretch into the second quarter.",
        ),
        captions=("Containers stacked at a port terminal", "A chart of monthly semiconductor exports"),
    ),
    ArticleText(
        slug="bandoche-suchul-hbm",
        lang="ko",
        category="economy",
        topic="chip-exports",
        days_ago=2,
        title="반도체 수출 석 달 연속 30%대 증가…HBM이 끌었다",
        author="정민재",
        summary="고대역폭메모리(HBM) 수요가 반도체 수출 증가를 이끌고 있다.",
        paragraphs=(
            "반도체 수출이 석 달 연속 전년 대비 30% 넘게 늘었다. 관세 당국이 발표한 이달 1~20일 "
            "수출입 현황을 보면 반도체 수출액은 지난해 같은 기간보다 34% 증가했다.",
            "증가세를 이끈 것은 인공지능 서버에 들어가는 고대역폭메모리(HBM)다. 업계에 따르면 "
            "국내 메모리 업체들의 HBM 생산 물량은 내년 상반기분까지 사실상 계약이 끝난 상태다.",
            "반면 스마트폰과 PC에 들어가는 범용 D램 가격은 보합세에 머물렀다. 한 증권사 연구원은 "
            "\"반도체 안에서도 AI용과 일반용의 온도 차가 크다\"며 \"수출 호조가 모든 업체에 고르게 "
            "퍼지는 것은 아니다\"라고 분석했다.",
            "정부는 반도체 장비 투자에 대한 세액공제를 연장하는 방안을 검토하고 있다.",
        ),
        captions=("반도체 웨이퍼를 검사하는 연구원",),
    ),
    ArticleText(
        slug="chip-boom-suppliers-hiring",
        lang="en",
        category="economy",
        topic="chip-exports",
        days_ago=1,
        title="Chip export boom spreads to equipment makers and their towns",
        author="Priya Natarajan",
        summary="Smaller suppliers of cleaning, testing and packaging equipment are hiring as chip exports surge.",
        paragraphs=(
            "The surge in semiconductor exports is no longer just a story about the two largest "
            "memory makers. In an industrial park south of Seoul, a company that builds wafer-cleaning "
            "machines has added a night shift for the first time in its twenty-year history.",
            "\"Our order book doubled in six months,\" said its production manager, Kim Tae-hoon. "
            "\"Customers used to ask for delivery in a quarter. Now they ask for it in six weeks.\"",
            "Industry associations estimate that suppliers of testing, packaging and cleaning "
            "equipment have hired several thousand workers this year. Local restaurants and landlords "
            "near the big fabs report the same thing in their own terms: fuller tables and fewer "
            "empty rooms.",
            "Not everyone is convinced the boom will last. Previous memory cycles ended abruptly when "
            "buyers had stocked up, and some suppliers are wary of borrowing to expand. Still, "
            "executives say orders tied to artificial-intelligence servers look steadier than the "
            "smartphone-driven cycles of the past.",
            "For now the numbers point one way. Chip shipments have grown by more than 30 percent "
            "for three consecutive months, and the trade ministry expects the year to close with a "
            "record.",
        ),
        captions=("Technicians assemble a wafer-cleaning machine", "Night shift at an equipment plant"),
        video="inline",
    ),
    ArticleText(
        slug="bandoche-suchul-sasang-choedae",
        lang="ko",
        category="economy",
        topic="chip-exports",
        days_ago=0,
        title="올해 반도체 수출 사상 최대 전망…\"AI 서버 수요가 구조적 변화\"",
        author="정민재",
        summary="연간 반도체 수출이 사상 최대를 기록할 것이라는 전망이 나왔다.",
        paragraphs=(
            "올해 반도체 수출액이 역대 최대 기록을 새로 쓸 것이라는 전망이 나왔다. 산업 당국은 "
            "연말까지 현재 추세가 이어지면 연간 반도체 수출이 종전 최고치를 10% 이상 웃돌 것으로 "
            "내다봤다.",
            "이번 호황이 과거와 다른 점은 수요처다. 과거 반도체 경기는 스마트폰과 PC 교체 주기에 "
            "따라 오르내렸지만, 지금은 데이터센터 투자가 수요를 떠받치고 있다. 한 경제연구소는 "
            "보고서에서 \"AI 서버 투자는 최소 2~3년은 이어질 구조적 변화\"라고 평가했다.",
            "수출 지역도 다변화됐다. 대만과 미국으로 가는 물량이 크게 늘면서 특정 국가에 대한 "
            "의존도가 낮아졌다.",
            "다만 환율과 원자재 가격, 주요국의 수출 통제는 변수로 꼽힌다. 전문가들은 \"호황기에 "
            "차세대 공정 투자를 서둘러야 다음 하강기를 버틸 수 있다\"고 조언했다.",
            "반도체 수출 증가에 힘입어 전체 무역수지도 흑자 폭을 키우고 있다.",
        ),
        captions=("수출 선적을 기다리는 화물", "반도체 생산 라인 내부"),
    ),
    ArticleText(
        slug="semiconductor-exports-surge-record-year",
        lang="en",
        category="economy",
        topic="chip-exports",
        days_ago=0,
        title="Semiconductor exports surge toward a record year as AI demand holds",
        author="Daniel Reyes",
        summary="Officials now expect annual chip exports to beat the previous record by a wide margin.",
        paragraphs=(
            "Semiconductor exports are on course for their best year ever, trade officials said on "
            "Tuesday, as orders for memory used in artificial-intelligence data centres showed no sign "
            "of slowing.",
            "If the current pace holds through December, annual chip exports would exceed the previous "
            "peak by more than ten percent. Shipments to Taiwan and the United States have grown "
            "fastest, reflecting where the largest server assemblers and cloud operators build.",
            "The surge has propped up a trade surplus that would otherwise look thin. Shipments of "
            "cars, steel and chemicals have been flat or falling, and imports of energy remain high.",
            "Currency traders have taken note. The won strengthened modestly this month, which "
            "exporters welcome less warmly than the headline figures might suggest, since a stronger "
            "currency trims the value of overseas sales.",
        ),
        captions=("Cargo cranes load containers at dusk",),
    ),
    # ---------------------------------------------------------------- kpop-world-tour (ko x2, en x2)
    ArticleText(
        slug="lumina-world-tour-announce",
        lang="ko",
        category="entertainment",
        topic="kpop-world-tour",
        days_ago=3,
        title="걸그룹 루미나, 데뷔 첫 월드투어 발표…14개 도시 32회 공연",
        author="한유진",
        summary="루미나가 내년 봄부터 아시아, 북미, 유럽 14개 도시를 도는 첫 월드투어에 나선다.",
        paragraphs=(
            "5인조 걸그룹 루미나가 데뷔 4년 만에 첫 월드투어에 나선다. 소속사는 내년 3월 서울 "
            "공연을 시작으로 도쿄, 방콕, 로스앤젤레스, 런던 등 14개 도시에서 모두 32회 공연을 "
            "연다고 밝혔다.",
            "투어 이름은 '라이트하우스'다. 멤버 하린은 공개된 영상에서 \"팬들이 있는 곳이라면 어디든 "
            "등대처럼 찾아가겠다는 뜻\"이라고 설명했다.",
            "루미나는 올해 발표한 두 번째 정규앨범으로 해외 음원 차트에서 좋은 성적을 거두며 "
            "인지도를 넓혔다. 공연 업계는 해외 공연장 규모를 보면 그룹의 현지 팬층이 크게 "
            "늘었다고 보고 있다.",
        ),
        captions=("루미나 월드투어 포스터",),
        video="inline",
    ),
    ArticleText(
        slug="lumina-tour-tickets-sold-out",
        lang="en",
        category="entertainment",
        topic="kpop-world-tour",
        days_ago=1,
        title="LUMINA's first world tour sells out in minutes as dates are added",
        author="Elena Novak",
        summary="Promoters added six shows after the K-pop group's tour sold out across North America and Europe.",
        paragraphs=(
            "Tickets for the first world tour by the K-pop group LUMINA sold out within minutes of "
            "going on sale, prompting promoters to add six more dates in North America and Europe.",
            "The five-member group, which debuted four years ago, had announced 32 concerts in 14 "
            "cities. Queues on the ticketing site reached several hundred thousand people for the "
            "London and Los Angeles shows alone, according to the promoter.",
            "Fan clubs had organised for weeks, sharing guides on which browser to use and how to "
            "split up across devices. Resale listings appeared almost immediately at several times "
            "face value, and the group's agency asked fans not to buy from unofficial sellers.",
            "The tour, called Lighthouse, opens in Seoul in March. The agency released a short "
            "rehearsal clip on Thursday that has been widely shared.",
        ),
        captions=("Fans wait outside a ticket office", "The LUMINA Lighthouse tour stage design"),
        embed="aqz-KE-bpKQ",
    ),
    ArticleText(
        slug="lumina-weoldeutueo-chuga-gongyeon",
        lang="ko",
        category="entertainment",
        topic="kpop-world-tour",
        days_ago=0,
        title="루미나 월드투어 전석 매진에 추가 공연 6회…\"암표 주의\"",
        author="한유진",
        summary="루미나 월드투어가 전석 매진되며 추가 공연이 확정됐다. 소속사는 암표 주의를 당부했다.",
        paragraphs=(
            "루미나의 첫 월드투어 '라이트하우스'가 예매 시작과 동시에 전석 매진됐다. 소속사는 "
            "북미와 유럽에서 6회 공연을 추가한다고 밝혔다.",
            "예매 당일 런던 공연에는 수십만 명이 대기열에 몰렸다. 한 팬은 \"대기 번호가 20만 번대여서 "
            "포기하려다 추가 공연 소식을 듣고 다시 도전했다\"고 말했다.",
            "재판매 사이트에는 정가의 몇 배에 달하는 표가 올라왔다. 소속사는 공식 채널 외 거래로 "
            "산 표는 입장이 제한될 수 있다며 주의를 당부했다.",
            "서울 첫 공연은 내년 3월 열린다. 소속사는 투어 기간 현지 팬들을 위한 팝업 전시도 "
            "함께 열 계획이다.",
        ),
        captions=("공연장 앞에 모인 팬들", "추가 공연 일정표"),
        video="inline",
    ),
    ArticleText(
        slug="lumina-lighthouse-tour-rehearsal",
        lang="en",
        category="entertainment",
        topic="kpop-world-tour",
        days_ago=0,
        title="Inside the rehearsal room as LUMINA prepares a 38-date world tour",
        author="Sam Okafor",
        summary="The group showed a first look at the staging for its Lighthouse world tour.",
        paragraphs=(
            "The stage for LUMINA's Lighthouse tour is built around a rotating tower of light that "
            "rises from the centre of the arena, the group's creative director said during a short "
            "preview for reporters on Tuesday.",
            "With the extra dates added this week, the tour now runs to 38 concerts. Each show will "
            "last about two and a half hours, and the set list mixes tracks from both albums with two "
            "unreleased songs.",
            "The members rehearse six days a week, splitting time between choreography and vocal "
            "training. \"We want the people in the last row to feel as close as the first,\" said "
            "member Harin.",
            "The agency posted a rehearsal clip alongside the preview, its first official video from "
            "the tour.",
        ),
        captions=("LUMINA rehearse choreography in a studio",),
        video="og",
    ),
    # ---------------------------------------------------------------- ai-chip-launch (ko x2, en x2)
    ArticleText(
        slug="norae-labs-nx7-teaser",
        lang="en",
        category="tech",
        topic="ai-chip-launch",
        days_ago=6,
        title="Norae Labs teases an AI accelerator built for small data centres",
        author="Tom Hargreaves",
        summary="The Seoul start-up says its first chip will run large language models at a fraction of the power.",
        paragraphs=(
            "Norae Labs, a Seoul start-up founded by former memory engineers, said it will unveil its "
            "first artificial-intelligence accelerator next week, a chip aimed at companies that want "
            "to run language models without building a hyperscale data centre.",
            "The company released few details but said the chip, called NX-7, pairs its compute cores "
            "directly with stacked memory to reduce the energy spent moving data.",
            "Analysts said the pitch targets a real gap. Many businesses want to keep their data on "
            "their own servers, but the accelerators that dominate the market are expensive and "
            "power-hungry.",
        ),
        captions=("A teaser image of the NX-7 chip package",),
    ),
    ArticleText(
        slug="norae-nx7-chulsi",
        lang="ko",
        category="tech",
        topic="ai-chip-launch",
        days_ago=2,
        title="노래랩스, AI 추론 칩 'NX-7' 공개…\"전력 효율 3배\"",
        author="박지훈",
        summary="국내 스타트업 노래랩스가 첫 AI 추론용 칩을 공개했다.",
        paragraphs=(
            "AI 반도체 스타트업 노래랩스가 첫 제품인 추론용 칩 'NX-7'을 공개했다. 회사는 같은 "
            "전력으로 기존 그래픽처리장치(GPU) 대비 세 배 많은 문장을 처리할 수 있다고 설명했다.",
            "NX-7은 연산 코어 바로 위에 메모리를 쌓아 올린 구조다. 데이터를 멀리 옮기지 않아도 "
            "되기 때문에 전력 소모가 줄어든다는 것이 회사 측 설명이다.",
            "노래랩스 대표는 발표회에서 \"대형 데이터센터가 아니라 회사 서버실 한 칸에서도 "
            "언어 모델을 돌릴 수 있게 하는 것이 목표\"라고 말했다. 첫 양산 물량은 내년 2분기에 "
            "고객사에 공급된다.",
            "업계에서는 소프트웨어 생태계가 관건이라는 지적이 나온다. 개발자들이 익숙한 도구로 "
            "쉽게 옮겨 올 수 있어야 실제 도입으로 이어진다는 것이다.",
        ),
        captions=("발표회에서 공개된 NX-7 칩", "노래랩스 연구원이 시제품 보드를 점검하고 있다"),
    ),
    ArticleText(
        slug="nx7-benchmarks-developers",
        lang="en",
        category="tech",
        topic="ai-chip-launch",
        days_ago=1,
        title="First benchmarks of the NX-7 AI chip impress, but developers want better tools",
        author="Tom Hargreaves",
        summary="Early testers report strong efficiency from Norae Labs' new accelerator and rough software.",
        paragraphs=(
            "A week after its launch, the first independent measurements of Norae Labs' NX-7 "
            "accelerator are in, and they mostly support the company's claims on efficiency.",
            "Testers at two cloud hosting firms ran mid-sized language models on the chip and "
            "reported between 2.4 and 2.9 times more tokens per watt than the graphics cards they "
            "normally use. Latency for single requests was slightly worse.",
            "The software is another matter. Developers described a compiler that rejected some "
            "common model layers and documentation that was only partly translated from Korean. "
            "Norae says a major update is due within two months.",
            "\"The silicon is good. The question is whether they can make it boring to use,\" said "
            "one engineer who tested the chip. \"Nobody wants to rewrite their models for a "
            "new chip.\"",
            "The company has opened a waiting list for a developer kit and says demand has exceeded "
            "its first production run.",
        ),
        captions=("The NX-7 developer board on a test bench",),
        video="inline",
    ),
    ArticleText(
        slug="nx7-yeyak-pumjeol",
        lang="ko",
        category="tech",
        topic="ai-chip-launch",
        days_ago=0,
        title="AI 칩 NX-7 개발자 키트 사전 예약 하루 만에 품절",
        author="박지훈",
        summary="노래랩스의 AI 칩 개발자 키트가 사전 예약 하루 만에 동났다.",
        paragraphs=(
            "노래랩스가 AI 추론 칩 NX-7을 탑재한 개발자 키트 사전 예약을 받은 지 하루 만에 "
            "준비한 물량이 모두 소진됐다.",
            "예약자는 중소 클라우드 업체와 대학 연구실, 스타트업이 대부분이었다. 한 대학 연구실 "
            "관계자는 \"전기 요금 때문에 GPU 서버를 늘리기 어려웠는데, 전력 효율이 좋다는 평가를 "
            "보고 신청했다\"고 말했다.",
            "회사는 다음 달 2차 예약을 받을 예정이며, 개발 도구 업데이트도 함께 내놓겠다고 밝혔다. "
            "초기 테스트에서 일부 모델이 변환되지 않는다는 지적이 나온 데 따른 것이다.",
            "증권가에서는 국내 AI 반도체 스타트업에 대한 관심이 다시 커지고 있다는 분석이 나온다.",
        ),
        captions=("NX-7 개발자 키트 상자",),
        video="inline",
    ),
    # ---------------------------------------------------------------- riverside-marathon (ko x1, en x2)
    ArticleText(
        slug="riverside-marathon-registrations",
        lang="en",
        category="sports",
        topic="riverside-marathon",
        days_ago=3,
        title="Seoul Riverside Marathon draws record field of 40,000 runners",
        author="Sam Okafor",
        summary="Organisers closed registration early as first-time runners flooded in.",
        paragraphs=(
            "Organisers of the Seoul Riverside Marathon closed registration three weeks early after "
            "40,000 runners signed up, the largest field in the race's history.",
            "More than half of the entrants are running a full marathon for the first time, and the "
            "share of women has risen to 38 percent. Running clubs that meet after work along the "
            "river have multiplied over the past two years.",
            "The course follows the southern bank of the Han River before crossing two bridges and "
            "finishing in a stadium. Several roads will be closed from early morning on race day.",
        ),
        captions=("Runners train along the river at dawn", "The marathon course map"),
    ),
    ArticleText(
        slug="hangang-marathon-gyotong-tongje",
        lang="ko",
        category="sports",
        topic="riverside-marathon",
        days_ago=1,
        title="주말 한강 리버사이드 마라톤…4만 명 달리고 도로 곳곳 통제",
        author="이도윤",
        summary="역대 최다 참가자가 몰린 한강 리버사이드 마라톤이 이번 주말 열린다.",
        paragraphs=(
            "이번 주말 서울 도심에서 역대 최대 규모의 마라톤 대회가 열린다. 한강 리버사이드 "
            "마라톤에는 4만 명이 참가 신청을 했고, 이 가운데 절반 이상이 풀코스에 처음 도전한다.",
            "대회 당일 오전 6시부터 낮 1시까지 한강 남단 도로와 다리 두 곳이 단계적으로 통제된다. "
            "경찰은 지하철을 이용해 달라고 당부했다.",
            "최근 퇴근 후 한강에서 함께 달리는 러닝 크루가 크게 늘면서 마라톤 대회 참가 신청도 "
            "해마다 기록을 경신하고 있다. 직장인 러너 오세훈(31) 씨는 \"혼자서는 10km도 힘들었는데 "
            "크루와 함께 석 달 준비했다\"고 말했다.",
            "주최 측은 초보 참가자에게 출발 전 충분한 수분 섭취와 무리하지 않는 페이스를 "
            "권했다. 구간마다 의료 부스 15곳이 설치된다.",
        ),
        captions=("한강변을 달리는 러닝 크루", "마라톤 교통 통제 구간 안내도"),
        video="inline",
    ),
    ArticleText(
        slug="riverside-marathon-race-day",
        lang="en",
        category="sports",
        topic="riverside-marathon",
        days_ago=0,
        title="A record field and a course record as the Riverside Marathon returns",
        author="Maya Collins",
        summary="A Kenyan runner broke the course record while tens of thousands of amateurs crossed the river.",
        paragraphs=(
            "The Seoul Riverside Marathon produced a course record and a finishing field larger than "
            "any in its history on Sunday, as cool, still weather greeted runners along the Han River.",
            "The men's race was decided in the final five kilometres, when the winner pulled away on "
            "the second bridge crossing to finish in two hours, five minutes and forty seconds. The "
            "women's winner, a former track runner from Ethiopia, won by almost two minutes.",
            "Behind them, amateurs filled the course for most of the morning. Volunteers handed out "
            "more than 200,000 cups of water, and medical staff reported fewer cramp cases than "
            "expected, which they credited to the cool conditions.",
            "For many first-timers the result mattered less than the finish line. \"I started "
            "running with colleagues in spring because I was tired of sitting all day,\" said a "
            "29-year-old accountant, holding her medal. \"Today I ran forty-two kilometres.\"",
            "Organisers said registrations for next year will open in March, and that they are "
            "considering a cap to keep the riverside paths from becoming too crowded.",
        ),
        captions=("Runners cross a bridge over the Han River", "A first-time marathoner celebrates at the finish"),
        video="inline",
    ),
    # ---------------------------------------------------------------- one-off stories (ko x4, en x5)
    ArticleText(
        slug="gukhoe-yesan-simsa-gyoreo",
        lang="ko",
        category="politics",
        topic=None,
        days_ago=6,
        title="예산안 심사 막바지…여야, 지역 사업 예산 두고 줄다리기",
        author="최하은",
        summary="국회 예산 심사가 법정 기한을 앞두고 막판 협상에 들어갔다.",
        paragraphs=(
            "내년도 예산안 심사가 법정 처리 기한을 일주일 남기고 막바지에 접어들었다. 여야는 "
            "감액 규모에는 대체로 의견을 모았지만, 지역 도로와 철도 사업 예산을 두고 이견을 "
            "좁히지 못하고 있다.",
            "예산결산특별위원회 소위원회는 이번 주 밤늦게까지 회의를 이어 가며 부처별 사업을 "
            "하나씩 검토하고 있다. 한 위원은 \"쟁점 사업이 40여 개 남았다\"고 전했다.",
            "시민단체들은 심사 과정이 비공개 협의에 지나치게 의존한다고 비판했다. 이들은 "
            "증액된 사업 목록과 요청한 의원 이름을 공개하라고 요구했다.",
        ),
        captions=("국회 예산결산특별위원회 회의장",),
    ),
    ArticleText(
        slug="city-council-bus-lanes-vote",
        lang="en",
        category="politics",
        topic=None,
        days_ago=4,
        title="City council narrowly backs new bus lanes after heated debate",
        author="Priya Natarajan",
        summary="The plan converts two central avenues to bus-priority streets from next summer.",
        paragraphs=(
            "After a debate that ran past midnight, the city council voted 21 to 19 to convert two "
            "central avenues into bus-priority streets, a plan that has divided shop owners and "
            "commuters for most of the year.",
            "Supporters argued that buses carry more than half of the people travelling through the "
            "corridor but are stuck in the same traffic as private cars. Opponents, many of them "
            "representing districts on the edge of the city, said delivery access would suffer.",
            "The final version includes loading bays on side streets and a review after twelve months. "
            "Work is expected to begin in spring.",
            "\"This is not the end of the argument,\" the council's transport chair said after the vote. "
            "\"It is the start of an experiment we will have to measure honestly.\"",
        ),
        captions=("A bus stuck in evening traffic on a central avenue",),
    ),
    ArticleText(
        slug="ilin-gagu-pyeonuijeom",
        lang="ko",
        category="society",
        topic=None,
        days_ago=1,
        title="1인 가구 800만 시대…편의점 소포장 식재료 매출 껑충",
        author="김서연",
        summary="혼자 사는 가구가 늘면서 소포장 채소와 반찬 매출이 크게 늘었다.",
        paragraphs=(
            "혼자 사는 가구가 늘면서 장보기 풍경도 바뀌고 있다. 한 편의점 업체에 따르면 올해 "
            "소포장 채소와 1인분 반찬 매출은 지난해보다 45% 증가했다.",
            "대파 한 단 대신 잘게 썬 대파 한 봉지, 양배추 한 통 대신 4분의 1 조각을 사는 소비자가 "
            "많아졌다. 혼자 사는 대학원생 임지수(28) 씨는 \"큰 단위로 사면 절반은 버리게 된다\"고 "
            "말했다.",
            "유통업계는 1인 가구를 겨냥한 상품 구성을 늘리고 있다. 일부 대형마트는 정육 코너에서 "
            "100g 단위 판매를 시작했다.",
            "전문가들은 소포장이 음식물 쓰레기를 줄이는 효과가 있지만, 포장재 사용이 늘어나는 "
            "문제도 함께 살펴야 한다고 지적한다.",
        ),
        captions=("편의점 진열대에 놓인 소포장 채소",),
    ),
    ArticleText(
        slug="libraries-open-late-exam-season",
        lang="en",
        category="society",
        topic=None,
        days_ago=5,
        title="Public libraries stay open until midnight as students crowd reading rooms",
        author="Elena Novak",
        summary="A pilot extending library hours has drawn more visitors than expected.",
        paragraphs=(
            "Three public libraries in the city have kept their reading rooms open until midnight "
            "for the past month, and staff say the late hours have been busier than the afternoons.",
            "The pilot was meant for students preparing for exams, but librarians say the evening "
            "crowd is mixed: shift workers, parents who come after putting children to bed, and "
            "people who simply want a warm, quiet room.",
            "Running the extra hours costs about as much as one additional staff member per library. "
            "The city will decide in January whether to make the schedule permanent.",
        ),
        captions=("Late-night readers at a public library",),
    ),
    ArticleText(
        slug="port-strike-shipping-delays",
        lang="en",
        category="world",
        topic=None,
        days_ago=6,
        title="Port workers' strike strands ships and delays winter deliveries",
        author="Daniel Reyes",
        summary="A walkout at a major container port has left dozens of vessels waiting offshore.",
        paragraphs=(
            "Dozens of container ships were waiting offshore on Monday as a strike by dock workers at "
            "one of the region's busiest ports entered its fourth day.",
            "The union is seeking higher pay and limits on automated cranes, which it says will "
            "replace hundreds of jobs. Port operators say automation is needed to compete with "
            "neighbouring terminals.",
            "Retailers warned that winter clothing and electronics could arrive late. Some shipping "
            "lines have begun diverting vessels to smaller ports, where queues are also growing.",
            "Mediators are expected to meet both sides again later this week.",
        ),
        captions=("Cranes stand idle at a container terminal", "Ships anchored offshore"),
    ),
    ArticleText(
        slug="haeoe-yeohaeng-hwanyul",
        lang="ko",
        category="world",
        topic=None,
        days_ago=2,
        title="엔화 약세에 겨울 일본 여행 예약 늘어…동남아는 주춤",
        author="정민재",
        summary="엔화 약세가 이어지며 연말 일본 여행 예약이 늘고 있다.",
        paragraphs=(
            "연말을 앞두고 해외여행 예약이 일본으로 쏠리고 있다. 한 여행사의 12월 출발 예약 가운데 "
            "일본 비중은 42%로, 지난해보다 8%포인트 높아졌다.",
            "엔화 약세로 현지 숙박비와 식비 부담이 줄어든 것이 가장 큰 이유로 꼽힌다. 온천과 "
            "스키를 묶은 상품의 예약이 특히 빠르게 늘었다.",
            "반면 동남아 휴양지 예약은 항공권 가격이 오르면서 다소 주춤했다. 여행업계는 "
            "설 연휴 예약이 시작되는 다음 달 흐름을 지켜보고 있다.",
        ),
        captions=("공항 출국장에 줄을 선 여행객들",),
    ),
    ArticleText(
        slug="gogung-yagan-gaejang",
        lang="ko",
        category="culture",
        topic=None,
        days_ago=4,
        title="가을밤 고궁 야간 개장…한복 입은 관람객 발길 이어져",
        author="한유진",
        summary="고궁 야간 개장 기간 관람객이 크게 늘었다.",
        paragraphs=(
            "가을 고궁 야간 개장이 이번 주 마지막 주간을 맞았다. 조명이 켜진 전각과 연못을 "
            "보려는 관람객이 몰리면서 평일 저녁에도 입장권이 매진됐다.",
            "한복을 빌려 입고 온 관람객도 많았다. 한복을 입으면 입장료가 면제되는 덕분에 궁 주변 "
            "한복 대여점은 저녁 시간까지 문을 열고 있다.",
            "올해는 전통 음악 공연과 해설 프로그램이 새로 추가됐다. 관리 당국은 문화재 보호를 "
            "위해 입장 인원을 시간대별로 나눠 받고 있다고 밝혔다.",
            "야간 개장은 이달 말까지 이어지며, 겨울 특별 개장 일정은 다음 달 발표된다.",
        ),
        captions=("조명이 켜진 고궁 연못", "한복을 입고 야경을 즐기는 관람객"),
        video="inline",
    ),
    ArticleText(
        slug="ceramics-exhibition-opens",
        lang="en",
        category="culture",
        topic=None,
        days_ago=6,
        title="A museum gathers five centuries of moon jars in one room",
        author="Tom Hargreaves",
        summary="An exhibition brings together moon jars from private and public collections.",
        paragraphs=(
            "For the first time, twenty-three moon jars, the large round white porcelain vessels "
            "prized by collectors, are on show together in a single gallery of the national museum.",
            "The jars were lent by museums on three continents and by private collectors, some of "
            "whom have never exhibited them before. Curators arranged them without glass cases in a "
            "dim room so that visitors can see how each surface catches the light differently.",
            "The exhibition also includes modern work by potters who still fire jars in wood kilns, "
            "a process in which a single firing can take three days.",
            "The show runs until the end of February. Timed tickets are recommended at weekends.",
        ),
        captions=("Moon jars arranged in a dim gallery",),
    ),
    ArticleText(
        slug="balcony-gardens-apartments",
        lang="en",
        category="life",
        topic=None,
        days_ago=3,
        title="Apartment dwellers turn narrow balconies into winter vegetable gardens",
        author="Priya Natarajan",
        summary="Cold-hardy greens and cheap grow lights are turning balconies into kitchen gardens.",
        paragraphs=(
            "The smallest balconies are producing surprisingly large salads. Garden shops report "
            "rising sales of cold-hardy seeds such as spinach, mizuna and winter lettuce, and of "
            "low-power grow lights that clip onto a railing.",
            "\"People assume the season is over in November,\" said the owner of a plant shop that "
            "runs weekend workshops. \"With a bit of shelter from the wind, you can harvest leaves "
            "until February.\"",
            "Enthusiasts trade tips online about insulating pots with old blankets and about which "
            "varieties tolerate a few hours of sun. Some apartment associations have started seed "
            "swaps in their lobbies.",
        ),
        captions=("Winter greens growing in pots on a balcony railing",),
    ),
)

# The syndicated copy of one article at a partner URL: the same text with one sentence changed.
SYNDICATED_ORIGINAL = "chip-boom-suppliers-hiring"
SYNDICATED_CHANGE = (
    "Industry associations estimate that suppliers of testing, packaging and cleaning "
    "equipment have hired several thousand workers this year.",
    "Trade groups reckon that makers of testing, packaging and cleaning equipment took on "
    "about 4,000 extra staff over the year, this wire service has learned.",
)

# The article that a newsletter links with tracking parameters (an exact duplicate by URL).
TRACKED_ORIGINAL = "camping-boom-winter-season"
TRACKING_QUERY = "?utm_source=newsletter&utm_medium=email&utm_campaign=weekly"

BROKEN_PAGE_TEXT = (
    "Archive: stories from the old site. This page was migrated from the previous system and "
    "several entries were lost. Readers looking for older coverage of the city budget, the "
    "river clean-up and the regional elections should use the search page instead"
)

SECRET_PAGE_TEXT = (
    "Internal draft, not for publication. Editors' notes on upcoming coverage and embargoed "
    "figures. Crawlers must not fetch this page; robots.txt disallows the whole folder."
)

FOOTER_KO = (
    "트렌드릴 데일리 · 본 사이트는 트렌드릴 데모용 예시 사이트이며 모든 기사와 인물은 가상입니다. "
    "무단 전재 및 재배포 금지."
)
FOOTER_EN = (
    "Trendreel Daily · This is the sample site bundled with trendreel; every story and person on it "
    "is invented. All rights reserved."
)
