"""Greeting messages for the cleanup tests (tests/test_cleanup.py) and bench/cleanup.py.

`PLAIN`: send-ready messages, as a good model writes them, that the cleanup must pass through
byte-identical: English and Korean, many occasions and relations, with punctuation, quotes,
emoji, paragraphs and real sign-offs, some starting with words a preamble could start with.

`CHATTY`: (model reply, what the user should receive) where a chat model wrapped the message
in a preamble, a title, quotes, markdown emphasis or a placeholder signature.
"""

PLAIN: list[str] = [
    # English
    "Happy 30th, Jun! 🎉 Cheers!",
    "Happy birthday, Minji! 🎂 Hope your day is full of cake, laughter and zero work emails.",
    (
        "Sending you this message, Dad, to say thank you for everything. You taught me to ride a "
        "bike, to change a tyre and to never give up; I'm still working on the tyre part. 😄\n\n"
        "Happy Father's Day!\n\n"
        "Love,\n"
        "Emma"
    ),
    (
        "This message comes with a big hug, Minji! 🤗 Congratulations on your graduation: four "
        "years, countless all-nighters and one very proud family. 🎓"
    ),
    (
        "I'm writing this message with a big smile: happy birthday, Jun! 🎉 Here's to your 30th, "
        "and to many more adventures together."
    ),
    (
        '"Age is just a number," they say, and you prove it every year, Grandpa! Happy 80th '
        "birthday! 🎂"
    ),
    (
        "'Tis the season to be jolly, Minji! 🎄 Wishing you a cozy Christmas with hot chocolate, "
        "cheesy movies and everyone you love."
    ),
    (
        "'Tis the season to be jolly, Mom and Dad! 🎄\n\n"
        "Thank you for the tree, the lights and the 25 years of Christmas mornings. We'll be home "
        "on the 23rd, around 6 p.m.\n\n"
        "Love,\n"
        "Jun"
    ),
    "Sure hope your birthday is as amazing as you are, Minji! 🎈",
    (
        "Here's to another year of laughs, late-night snacks and questionable karaoke choices. "
        "Happy birthday, Dan! 🎤"
    ),
    (
        "Great-aunt Sue, happy 90th birthday! Ninety years of stories, recipes and wisdom; we're "
        "so lucky to share them with you. ❤️"
    ),
    (
        "A very happy birthday to my favourite person! You make every ordinary Tuesday feel like "
        "a holiday. 🥳"
    ),
    (
        "Okay, I admit it: you're the best sister ever. Happy birthday, Yuna! Don't let it go to "
        "your head. 😜"
    ),
    (
        "Certainly the best wife in the world deserves the best birthday. Happy birthday, my "
        "love! ❤️ Dinner's at 7:30; dress up, it's a surprise."
    ),
    "Happy to call you my friend for 20 years! Here's to the next 20, Sam. 🥂",
    "Best day of the year: your birthday! 🎂 Have a wonderful one, Chris.",
    (
        "Congratulations on your wedding, Emily and James! 💍 May your home always be full of "
        "laughter, your fridge full of snacks and your hearts full of love. Cheers!"
    ),
    (
        "Happy 10th anniversary, my love. ❤️ Ten years, two kids, one very patient dog... and "
        "I'd marry you all over again tomorrow.\n\n"
        "All my love,\n"
        "Daniel"
    ),
    "I'd marry you all over again, Sarah. Happy anniversary! 💕",
    (
        "Dr. Kim, congratulations on your Ph.D.! 🎓 After 5.5 years of lab work, late nights and "
        "more coffee than anyone should drink, you did it. We're all so proud of you."
    ),
    (
        "Absolutely nobody deserves this promotion more than you, Mr. Park! Congratulations on "
        "becoming Head of Sales; the team is thrilled (and a little scared). 😄"
    ),
    (
        "Thank you for your love, your patience and your jokes, Grandma. You're the heart of this "
        "family. 🙏"
    ),
    (
        "Get well soon, Tom! 🤒 The office is far too quiet without you — even the coffee "
        "machine misses you. Rest up, and don't check your email!"
    ),
    (
        "I'm so sorry for your loss, Anna. Your mother was a kind and generous soul, and I'll "
        "always remember her laugh. Please know I'm here for you, whenever you need me.\n\n"
        "With deepest sympathy,\n"
        "Laura"
    ),
    "Thinking of you and your family during this difficult time. 🕊️ Sending love and strength.",
    (
        "Welcome to the world, little Noah! 👶 Congratulations, Mia and Ben: 3.2 kg of pure joy. "
        "Get some sleep while you can... 😉"
    ),
    (
        "Congratulations on your growing family! 👨‍👩‍👧 Wishing the three of you peaceful "
        "nights, happy days and lots of cuddles."
    ),
    (
        "Happy retirement, Mr. Lee! After 32 years of early mornings, you've earned every lazy "
        "Sunday ahead. Enjoy the golf, the garden and the grandkids. 🏌️‍♂️\n\n"
        "From your team"
    ),
    (
        "Happy Mother's Day, Mom! 💐 Thank you for every packed lunch, every late-night talk and "
        "every 'I told you so' (you were usually right).\n\n"
        "Love you, Mom!"
    ),
    (
        "Merry Christmas, Uncle Joe! 🎄 Hope Santa brings you everything on your list (and a new "
        "tie that isn't brown)."
    ),
    "Congrats on the new job, Priya! 🎉 They're lucky to have you. Best of luck!",
    (
        "It's hard to say goodbye, Mark. Thank you for 6 years of great ideas, bad puns and "
        "endless support. We'll miss you — keep in touch!\n\n"
        "From your team"
    ),
    (
        "Just a quick message to say I'm proud of you, little brother. Congrats on passing your "
        "driving test! 🚗 Drive safe; I'm not lending you my car yet."
    ),
    (
        "This message is long overdue, Mrs. Brown: thank you for believing in me when I didn't "
        "believe in myself. I'm a teacher now too, and I try to be just like you.\n\n"
        "Warmly yours, Jun"
    ),
    "No message could ever hold how grateful I am, Mom. Happy birthday! 🎂\n\nLove,\nMinji",
    (
        "My dear husband,\n\n"
        "Another year older, and somehow still the most handsome man in any room... Happy 40th "
        "birthday! 🎂\n\n"
        "Thank you for the morning coffee, the terrible dad jokes and the way you hold my hand in "
        "the car. Life with you is my favourite adventure.\n\n"
        "Here's to 40 more!\n\n"
        "With love,\n"
        "Hana"
    ),
    (
        "Happy Thanksgiving, everyone! 🦃 I'm grateful for this family: the noise, the chaos and "
        "the 3 kinds of pie. See you at 2 p.m.!"
    ),
    (
        "Ms. Lopez, thank you for a wonderful school year! 🍎 Lily says you're 'the best teacher "
        "in the whole universe', and we agree."
    ),
    (
        "Happy graduation, kiddo! 🎓 I remember your first day of kindergarten like it was "
        "yesterday… and now look at you. Go get 'em.\n\n"
        "— Dad"
    ),
    (
        "Hi Tom,\n\n"
        "Welcome to the team! 🎉 Your first day is Monday at 9:30; I'll meet you in the lobby and "
        "show you around. Don't bring anything but yourself (and an appetite: there's cake).\n\n"
        "Best,\n"
        "Sarah"
    ),
    "Happy birthday to my partner in crime! 🎉 Can't wait to celebrate you tonight. xoxo",
    "Congrats on the promotion, Alex! 🥂 Drinks are on you this Friday. Cheers!",
    "Happy Valentine's Day, babe! 💘 You still give me butterflies after 7 years. Love you!",
    "Guess who's turning 21 today? 🎉 Happy birthday, Leo! Are you ready for the best year yet?",
    (
        "Dear Dr. Patel, thank you for taking such good care of Dad during his surgery. Your "
        "kindness (and your patience with his 100 questions!) meant the world to us. 🙏"
    ),
    (
        "Happy New Year, Grandma and Grandpa! 🎆 Wishing you a year full of health, laughter and "
        "long video calls – we miss you already."
    ),
    (
        "Here's wishing you the happiest of birthdays, Aunt Carol! 🌸 You make every family "
        "gathering better."
    ),
    (
        "Of course you got the job! 🎉 I never doubted it for a second, Minji. Congratulations – "
        "they're lucky to have you."
    ),
    "An amazing year starts today, Jun: happy 30th birthday! 🎂 Dirty thirty, here you come.",
    "Below freezing outside, but my heart is warm thinking of you, Grandpa. Merry Christmas! 🎄❄️",
    (
        "I'm happy beyond words for you both! Congratulations on your engagement, Jess and Tom. "
        "💍 Let the wedding planning (and the Pinterest boards) begin!"
    ),
    "OK, confession time: I still have the birthday card you made me in 1998. Happy 35th, Ben! 🎂",
    (
        "Mom, this message is long overdue, so here goes:\n\n"
        'Thank you. For the 5 a.m. rides to swim practice, for the "you can do it" notes in my '
        "lunchbox, for everything.\n\n"
        "Happy Mother's Day! 💐\n\n"
        "Love,\n"
        "Kate"
    ),
    (
        "Sending a birthday message all the way from Seoul to Toronto! ✈️ Happy birthday, Aunt "
        "Mary; I'll call you at 9 p.m. your time."
    ),
    (
        "My message is simple, Dad: you're my hero. Happy retirement! 🎣 Enjoy every fishing "
        "trip, every nap and every quiet morning.\n\n"
        "— Jun"
    ),
    (
        "A message from all of us at Green Leaf Café: thank you for 5 wonderful years as our "
        "customer, Mrs. Choi! ☕ Your next latte is on us."
    ),
    (
        'Happy graduation, Jun! 🎓 Remember what Mr. Harris always said: "Stay curious, stay '
        "kind.\" You've done both beautifully."
    ),
    (
        "Get well soon, Auntie! 💐 Doctor's orders: lots of rest, lots of soup and no "
        "housework... we'll handle the dishes."
    ),
    (
        "Happy birthday, little sis! 🎂 You're officially 18 – that means you can vote, but you "
        "still can't borrow my car. 😜 Love you!"
    ),
    (
        "Merry Christmas from our family to yours! 👨‍👩‍👧‍👦🎄 May your holidays be merry, "
        "bright and full of cookies.\n\n"
        "The Parks"
    ),
    "“Home is where the heart is,” and Mom, you’ve always been our home. Happy Mother’s Day! 💐",
    (
        "Happy birthday, Grandpa! As you always say, “a good laugh is the best medicine” – so "
        "here’s to a year full of them. 😄"
    ),
    (
        "Dear Mrs. Thompson,\n\n"
        "As you close the classroom door for the last time, I wanted to send you this note from "
        "all of us who were lucky enough to be in Room 12. You taught us long division, the "
        "capitals of Europe and – most importantly – that it's okay to make mistakes.\n\n"
        'I still remember the day you said, "Be brave enough to be bad at something new." I\'ve '
        "repeated it to myself at every new job since.\n\n"
        "Thank you for 38 years of patience, kindness and gold stars. Enjoy your retirement; "
        "you've more than earned it! 🍎\n\n"
        "With gratitude,\n"
        "Daniel Cho (Class of 2004)"
    ),
    (
        "Congratulations on the new home, Ji-ho and Sam! 🏡 May it be full of good food, good "
        "friends and (eventually) fully unpacked boxes. 👩‍🍳"
    ),
    (
        "Did you really think I'd forget your birthday? 😏 Happy birthday, Hyun! Dinner's on me "
        "(yes, really)."
    ),
    (
        "Who knew 3.5 years could go by so fast? Congratulations on your promotion, Ms. Garcia — "
        "you've earned every bit of it!"
    ),
    (
        "Mom, remember when you said, 'One day you'll thank me for this'? Well... thank you. "
        "Happy Mother's Day! 💐"
    ),
    (
        "Happy birthday to my sweet boy! 🎂 I can't believe you're 16 already; it feels like "
        "yesterday you were learning to walk.\n\n"
        "Love,\n"
        "Mom"
    ),
    (
        "Grandma, I heard you're feeling better — that's the best news all week! 🌷 Keep "
        "resting, and save me a slice of your apple pie.\n\n"
        "With love,\n"
        "Jun"
    ),
    # Korean
    "지훈아, 합격 축하해! 🎉 오늘은 내가 쏜다!",
    "민지야, 생일 축하해! 🎂 올해도 맛있는 거 많이 먹고, 하고 싶은 거 다 하는 한 해 보내자.",
    (
        "메시지로나마 축하 인사 전해요, 선생님! 정년퇴임을 진심으로 축하드립니다. 32년 동안 "
        "학생들을 위해 애써 주셔서 감사합니다. 🙏"
    ),
    "네 덕분에 올해도 행복했어! 생일 축하해, 수진아 🎉 앞으로도 지금처럼 옆에 있어 줘.",
    "여기저기서 축하받느라 바쁘겠지만… 내 축하도 하나 받아 줘! 승진 축하해, 지훈아 🎉",
    (
        "엄마, 생신 축하드려요! 🎂 늘 저희 먼저 챙기느라 고생 많으셨죠? 오늘만큼은 엄마가 "
        "주인공이에요.\n\n"
        "사랑하는 딸 민지가"
    ),
    (
        "아빠, 어버이날 축하드려요! 💐 항상 든든한 버팀목이 되어 주셔서 감사해요. 건강 꼭 "
        "챙기시고요, 사랑해요!"
    ),
    (
        "할머니, 새해 복 많이 받으세요! 🙇 올해도 건강하시고, 설날에 뵐 때까지 감기 조심하세요. "
        "할머니 떡국이 벌써 그리워요."
    ),
    (
        "부장님, 승진을 진심으로 축하드립니다. 늘 솔선수범하시는 모습에서 많이 배우고 있습니다. "
        "앞으로도 잘 부탁드립니다!"
    ),
    (
        '선생님, 스승의 날을 맞아 감사 인사드립니다. 🍎 고3 때 "넌 할 수 있어"라고 해 주신 '
        "한마디가 아직도 제게 큰 힘이 됩니다."
    ),
    (
        "고객님, 항상 저희 그린리프 카페를 찾아 주셔서 감사합니다. ☕ 따뜻한 연말 보내시고, "
        "새해에도 좋은 일만 가득하시길 바랍니다."
    ),
    (
        "여보, 결혼 10주년 축하해. ❤️ 10년 전 그날처럼 지금도 당신 옆이 제일 좋아. 앞으로 "
        "10년도, 20년도 잘 부탁해!"
    ),
    "자기야, 생일 축하해! 🎂 오늘 저녁은 내가 쏠게 (설거지는 자기 몫이지만 😜). 사랑해!",
    (
        "우리 막내, 졸업 축하해! 🎓 4년 동안 정말 고생 많았어. 이제 진짜 어른이네… 누나가 맛있는 "
        "거 사 줄게!"
    ),
    "즐거운 추석 보내! 🌕 송편 많이 먹고, 보름달 보면서 소원도 꼭 빌어. 연휴 끝나고 보자~",
    (
        "민족 대명절 추석을 맞아 감사의 마음을 전합니다. 풍성한 한가위 보내시고, 가정에 건강과 "
        "행복이 늘 함께하시길 바랍니다.\n\n"
        "그린리프 카페 드림"
    ),
    (
        "결혼 축하해, 수진아! 💍 너처럼 따뜻한 사람이 좋은 짝을 만나서 내가 다 기쁘다. 행복하게 "
        "잘 살아!"
    ),
    (
        "득남 축하드려요, 과장님! 👶 산모와 아기 모두 건강하다니 정말 다행이에요. 당분간 잠은 "
        "포기하셔야겠지만… 진심으로 축하드립니다!"
    ),
    (
        "할아버지, 수술이 잘 끝났다니 정말 다행이에요. 🙏 푹 쉬시고 얼른 회복하세요. 다음 주에 "
        "찾아뵐게요!"
    ),
    (
        "삼가 고인의 명복을 빕니다. 갑작스러운 소식에 얼마나 마음이 아프실지요. 곁에서 도울 일이 "
        "있으면 언제든 말씀해 주세요."
    ),
    "메리 크리스마스, 지민아! 🎄 올해도 산타 할아버지가 네 양말에 선물 가득 넣어 주시길! 🎁",
    (
        "새 직장 첫 출근 축하해, 현우야! 💼 첫날이라 긴장되겠지만 넌 잘할 거야. 점심 메뉴 고민은 "
        "나랑 같이 하자 ㅎㅎ"
    ),
    (
        "그동안 정말 감사했습니다, 팀장님. 3.5년 동안 팀장님과 함께 일한 건 큰 행운이었습니다. "
        "새로운 곳에서도 늘 건승하시길 바랍니다!\n\n"
        "개발팀 일동"
    ),
    (
        "엄마, 아빠께\n\n"
        "어버이날을 맞아 메시지로나마 마음을 전해요. 직접 찾아뵙지 못해서 죄송해요. 😢\n\n"
        "어릴 때는 몰랐는데, 제가 부모가 되어 보니 두 분이 얼마나 많은 걸 포기하고 저를 "
        "키우셨는지 이제야 조금 알 것 같아요. 매일 아침 6시에 일어나 도시락을 싸 주시던 엄마, "
        "주말마다 자전거를 가르쳐 주시던 아빠… 그 모든 순간이 감사해요.\n\n"
        "다음 달에 손주들 데리고 꼭 내려갈게요. 👨‍👩‍👧 그때까지 건강하세요!\n\n"
        "사랑하는 아들 준호 올림"
    ),
    (
        "메시지 하나로 다 전할 수는 없지만, 정말 고마워. 힘들 때마다 옆에 있어 줘서. 🙏 생일 "
        "축하해, 친구야!"
    ),
    (
        "이 메시지를 받을 때쯤이면 벌써 공항이겠네요. 🛫 유학 생활 건강하게, 즐겁게 잘하고 와요. "
        "보고 싶을 거예요!"
    ),
    (
        "늦었지만 메시지로 축하 인사 드려요, 이모! 환갑 진심으로 축하드려요. 🎉 늘 젊고 건강하게 "
        "지내세요."
    ),
    (
        "생일 축하 메시지 보내려고 12시까지 기다렸어! 🎂 민지야, 스물네 번째 생일 축하해. 올해는 "
        "좋은 일만 있을 거야."
    ),
    "물론 나이는 숫자에 불과하지만, 그래도 생일은 특별하잖아! 🎂 생일 축하해, 언니!",
    "좋아요 백 번 누르고 싶은 소식이네! 💍 결혼 축하해, 다은아. 행복하게 잘 살아야 해!",
    "다음은 네 차례야! 😉 부케 받은 사람이 다음에 결혼한다는 말 알지? 결혼 축하해, 수빈아!",
    (
        "여기 모인 저희 모두의 마음을 담아, 30년 동안 회사를 위해 헌신해 주신 김 부장님의 "
        "정년퇴임을 진심으로 축하드립니다. 🎉"
    ),
    (
        "부장님, 새해 복 많이 받으십시오. 지난 한 해 동안 많은 가르침을 주셔서 감사했습니다. "
        "올해도 건강하시고, 댁내 평안하시길 기원합니다.\n\n"
        "마케팅팀 이준호 올림"
    ),
    (
        "야, 다리 다쳤다며? 😱 많이 아프지? 얼른 나아서 다음 달 여행 같이 가자. 목발 짚고는 안 "
        "데려간다!"
    ),
    "우리 동생 첫 출근 축하해! 🎉 9시 출근이니까 알람 3개는 맞춰 놔. 누나는 항상 네 편이야.",
    (
        "선생님, 1년 동안 우리 지우를 따뜻하게 돌봐 주셔서 감사합니다. 지우가 집에 와서 '선생님이 "
        "최고야!'라고 매일 말할 정도였어요. 😊"
    ),
    (
        "사랑하는 여보에게\n\n"
        "생일 축하해! 🎂 벌써 우리가 함께한 지 7년이 됐네. 아침마다 커피 내려 주는 것도, 내가 "
        "힘들 때 말없이 안아 주는 것도 다 고마워.\n\n"
        "오늘 저녁은 당신이 좋아하는 그 파스타집에 7시로 예약해 놨어. 늦지 마!\n\n"
        "당신의 영원한 편, 남편이"
    ),
    (
        "고객님, 새해 복 많이 받으세요! 🎊 지난 한 해 저희 한빛치과를 믿고 찾아 주셔서 "
        "감사합니다. 올해도 건강한 미소를 지켜 드리겠습니다.\n\n"
        "한빛치과 원장 김민수 드림"
    ),
    (
        '할머니, 여든 번째 생신 진심으로 축하드려요! 🎂 "나이는 숫자에 불과하다"는 말, 할머니를 '
        "보면 정말 실감 나요. 오래오래 건강하세요. ❤️"
    ),
    (
        '"나이는 숫자에 불과하다"는 말이 딱 할아버지 얘기예요! 🎂 일흔 번째 생신 축하드려요, '
        "할아버지. 올해도 등산 같이 가요!"
    ),
    "「행복은 멀리 있지 않다」는 말, 요즘 너희 둘을 보면 실감 나. 결혼 축하해, 수진아! 💍",
    (
        "아빠, 35년 동안 정말 수고 많으셨어요. 👏 이제는 아빠가 하고 싶은 거 마음껏 하세요: "
        "낚시도, 등산도, 늦잠도요!\n\n"
        "막내딸 은지 올림"
    ),
    (
        "소식 들었어. 뭐라고 위로해야 할지 모르겠다… 많이 힘들 텐데, 밥은 꼭 챙겨 먹어. 필요하면 "
        "언제든 연락해, 바로 갈게."
    ),
    (
        "여보, 결혼기념일 축하해요 💕 당신이랑 함께한 5년이 내 인생에서 제일 행복한 시간이었어요. "
        "앞으로도 지금처럼만 우리 잘 살아요!"
    ),
    (
        "메리 크리스마스! 🎄👨‍👩‍👧 올해도 우리 가족 모두 건강하고 행복했던 것 같아. 내년에도 "
        "지금처럼 웃으면서 지내자!"
    ),
    (
        "예쁜 공주님 탄생을 진심으로 축하드려요! 👶🎀 3.2kg으로 건강하게 태어났다니 정말 "
        "다행이에요. 산후조리 잘하시고, 복직하시면 아기 사진 꼭 보여 주세요!"
    ),
    (
        "지훈 씨, 그동안 정말 고생 많았어요. 새 회사에서도 지금처럼만 하면 어디서든 인정받을 "
        "거예요. 가끔 연락 주고요! 🙌\n\n"
        "- 디자인팀 일동"
    ),
    (
        "부장님, 생신 축하드립니다! 🎂 바쁘신 와중에도 늘 팀원들을 먼저 챙겨 주셔서 감사합니다. "
        "오늘만큼은 일 생각은 잠시 내려놓으시고 즐거운 하루 보내십시오."
    ),
    (
        "메시지로 인사드려 죄송해요, 선생님. 😅 덕분에 무사히 졸업했습니다! 다음 달에 꼭 찾아뵙고 "
        "직접 감사 인사드릴게요."
    ),
    "새해 첫 메시지는 너한테 보내고 싶었어! 🎆 올해도 잘 부탁해, 친구야. 새해 복 많이 받아!",
    (
        "동생아, 생일 축하한다... 벌써 스물다섯이라니 믿기지가 않네. 🎂 용돈은 계좌로 보냈다. "
        "아껴 써라!\n\n"
        "형이"
    ),
    "엄마, 생신 진심으로 축하해요! 오늘 하루는 아무것도 하지 말고 푹 쉬세요. 사랑해요 ❤️",
    (
        "어머님, 늘 따뜻하게 챙겨 주셔서 감사해요. 이번 설에는 제가 전 부치는 거 도와드릴게요! "
        "새해 복 많이 받으세요. 🙇"
    ),
    (
        "장인어른, 생신 축하드립니다. 늘 저를 아들처럼 대해 주셔서 감사합니다. 이번 주말에 "
        "찾아뵙겠습니다: 좋아하시는 막걸리 챙겨 갈게요! 🍶"
    ),
    "잘 지내지? 벌써 우리 졸업한 지 10년이네… 생일 축하해, 친구야! 🎂 다음 달에 꼭 보자.",
]

CHATTY: list[tuple[str, str]] = [
    # What opens the message once a placeholder or emphasis is gone is never white space
    # (hypothesis found "[Your Name]\nSure! …" and "**\nSure! …" cut to "\nSure! Here's a").
    ("**\nHappy birthday, Jun.**", "Happy birthday, Jun."),
    (
        "[Your Name]\nHappy birthday, Mom. Thank you for everything.",
        "Happy birthday, Mom. Thank you for everything.",
    ),
    ("[Name] \n\n 생일 축하해, 민지야.", "생일 축하해, 민지야."),
    (
        "Sure! Here's a message for your wife:\n\n"
        "Happy birthday, my love! 🎂 Another year of you being the best part of my days.\n\n"
        "Love,\n"
        "Jun",
        "Happy birthday, my love! 🎂 Another year of you being the best part of my days.\n\n"
        "Love,\n"
        "Jun",
    ),
    (
        "Certainly! Here is a heartfelt birthday message:\n"
        "Dad, thank you for your love, your patience and your terrible jokes. Happy 60th! 🎉",
        "Dad, thank you for your love, your patience and your terrible jokes. Happy 60th! 🎉",
    ),
    (
        "Of course!\n\n"
        "Merry Christmas, Mr. Park! Wishing you and your family a peaceful holiday (and a "
        "well-deserved break). 🎄",
        "Merry Christmas, Mr. Park! Wishing you and your family a peaceful holiday (and a "
        "well-deserved break). 🎄",
    ),
    (
        "Here's a warm message for your boss:\n\n"
        "Congratulations on your promotion, Ms. Lee! Your leadership has made our team stronger; "
        "we're lucky to work with you.\n\n"
        "Best regards,\n"
        "[Your Name]",
        "Congratulations on your promotion, Ms. Lee! Your leadership has made our team stronger; "
        "we're lucky to work with you.",
    ),
    (
        "물론이죠! 다음은 아내에게 보낼 생일 메시지입니다:\n\n"
        "여보, 생일 축하해! 🎂 당신 덕분에 매일이 선물 같아. 사랑해 ❤️",
        "여보, 생일 축하해! 🎂 당신 덕분에 매일이 선물 같아. 사랑해 ❤️",
    ),
    (
        "네, 알겠습니다! 다음은 추석 인사 메시지예요:\n"
        "할머니, 즐거운 추석 보내세요! 🌕 건강하시고, 곧 찾아뵐게요.",
        "할머니, 즐거운 추석 보내세요! 🌕 건강하시고, 곧 찾아뵐게요.",
    ),
    (
        "Absolutely! Below is a short message:\n\n"
        "Get well soon, Tom! The office isn't the same without you. 💐",
        "Get well soon, Tom! The office isn't the same without you. 💐",
    ),
    ("Sure! Here's a message for you: Happy birthday, Minji!", "Happy birthday, Minji!"),
    (
        "Certainly! Here's a short note for your teacher: Thank you for everything, Ms. Kim; you "
        "made 3rd grade the best year yet! 🍎",
        "Thank you for everything, Ms. Kim; you made 3rd grade the best year yet! 🍎",
    ),
    (
        "Here is a greeting you can send: Happy Chuseok! May your table be full and your heart "
        "even fuller. 🌕",
        "Happy Chuseok! May your table be full and your heart even fuller. 🌕",
    ),
    (
        "Sure! Here's a message for you: Best day of the year: your birthday, Minji! 🎂",
        "Best day of the year: your birthday, Minji! 🎂",
    ),
    (
        "물론이죠! 다음은 생일 축하 메시지예요: 민지야, 생일 축하해! 🎉 오늘 하루 제일 행복하길!",
        "민지야, 생일 축하해! 🎉 오늘 하루 제일 행복하길!",
    ),
    (
        "**Happy Birthday, Minji!**\n\n"
        "Another year older, wiser and (somehow) even more fun. Have the best day! 🎂",
        "Another year older, wiser and (somehow) even more fun. Have the best day! 🎂",
    ),
    (
        "# Birthday message\n"
        "Jun, happy 30th! Here's to the next chapter: may it be your best yet. 🥂",
        "Jun, happy 30th! Here's to the next chapter: may it be your best yet. 🥂",
    ),
    (
        "Subject: Happy Chuseok\n\n"
        "Dear Mr. Choi,\n\n"
        "Wishing you and your family a joyful Chuseok full of good food, good company and "
        "well-earned rest.\n\n"
        "Warm regards,\n"
        "[Your Name]",
        "Dear Mr. Choi,\n\n"
        "Wishing you and your family a joyful Chuseok full of good food, good company and "
        "well-earned rest.",
    ),
    (
        "제목: 생일 축하\n\n지수야, 생일 진심으로 축하해! 🎂 올해는 네가 바라는 일 전부 이뤄지길.",
        "지수야, 생일 진심으로 축하해! 🎂 올해는 네가 바라는 일 전부 이뤄지길.",
    ),
    (
        "Sure! Here's a message for your wife:\n\n"
        '"Happy anniversary, my love! ❤️ Five years, one cat and a thousand inside jokes later, '
        "I'd still choose you.\"\n\n"
        "Best wishes,\n"
        "[Your Name]",
        "Happy anniversary, my love! ❤️ Five years, one cat and a thousand inside jokes later, "
        "I'd still choose you.",
    ),
    (
        "“Congratulations on your graduation, Jun! 🎓 All those late nights paid off.”",
        "Congratulations on your graduation, Jun! 🎓 All those late nights paid off.",
    ),
    (
        "다음은 선생님께 드릴 감사 메시지입니다:\n\n"
        "「선생님, 1년 동안 정말 감사했습니다. 덕분에 무사히 졸업해요! 🙏」",
        "선생님, 1년 동안 정말 감사했습니다. 덕분에 무사히 졸업해요! 🙏",
    ),
    (
        "Happy birthday, Grandma! 🎂 Thank you for every cookie and every story. Love, [Your Name]",
        "Happy birthday, Grandma! 🎂 Thank you for every cookie and every story.",
    ),
    (
        "수진아, 결혼 진심으로 축하해! 💍 둘이 오래오래 행복하게 잘 살아.\n\n사랑을 담아,\n[이름]",
        "수진아, 결혼 진심으로 축하해! 💍 둘이 오래오래 행복하게 잘 살아.",
    ),
    (
        "Dear Dr. Kim,\n\n"
        "Thank you for your care during my recovery; I couldn't have asked for a kinder "
        "doctor.\n\n"
        "Sincerely,\n"
        "<Your Name>",
        "Dear Dr. Kim,\n\n"
        "Thank you for your care during my recovery; I couldn't have asked for a kinder doctor.",
    ),
    (
        "Happy retirement, Linda! 🎉 After 25 years, the coffee machine will finally get a "
        "break.\n\n"
        "Warmly,\n"
        "(Your Name)",
        "Happy retirement, Linda! 🎉 After 25 years, the coffee machine will finally get a break.",
    ),
    ("Happy **birthday**, Minji! 🎉", "Happy birthday, Minji! 🎉"),
    (
        "**생일 축하해**, 민지야! 올해도 __꽃길만__ 걷자 🌸",
        "생일 축하해, 민지야! 올해도 꽃길만 걷자 🌸",
    ),
    (
        "Sure! Here's a birthday message for your sister:\n\n"
        "**Happy Birthday, Yuna!**\n\n"
        "Okay, I admit it: you're the best sister ever. 🎂 Don't let it go to your head!\n\n"
        "Love,\n"
        "[Your Name]",
        "Okay, I admit it: you're the best sister ever. 🎂 Don't let it go to your head!",
    ),
    (
        "Of course! Here's a short message for your mom: \"Happy Mother's Day, Mom! 💐 Thank you "
        'for everything. Love, [Your Name]"',
        "Happy Mother's Day, Mom! 💐 Thank you for everything.",
    ),
    (
        "여기 남편에게 보낼 결혼기념일 메시지예요:\n\n"
        "“자기야, 결혼 5주년 축하해! 💕 앞으로도 지금처럼 나랑 손잡고 걸어 줘.”\n\n"
        "사랑을 담아,\n"
        "[이름]",
        "자기야, 결혼 5주년 축하해! 💕 앞으로도 지금처럼 나랑 손잡고 걸어 줘.",
    ),
    (
        "Here's a heartfelt message for your dad:\n\n"
        '"Dad,\n\n'
        "Thank you for every early-morning drive, every pep talk and every hug when I needed one "
        "(even when I said I didn't).\n\n"
        "Happy Father's Day! 🎉\n\n"
        '— Jun"',
        "Dad,\n\n"
        "Thank you for every early-morning drive, every pep talk and every hug when I needed one "
        "(even when I said I didn't).\n\n"
        "Happy Father's Day! 🎉\n\n"
        "— Jun",
    ),
    (
        "I'd be happy to help! Here's a message for your grandmother:\n\n"
        "Grandma, happy 90th birthday! 🎂 Thank you for the recipes, the stories and the endless "
        "hugs.\n\n"
        "With love,\n"
        "Emma",
        "Grandma, happy 90th birthday! 🎂 Thank you for the recipes, the stories and the endless "
        "hugs.\n\n"
        "With love,\n"
        "Emma",
    ),
    (
        "I'm happy to help! Here's a farewell note for your coworker:\n\n"
        "It won't be the same without you, Priya! Thank you for 4 years of great ideas and even "
        "better snacks. Best of luck in Singapore! ✈️\n\n"
        "From your team",
        "It won't be the same without you, Priya! Thank you for 4 years of great ideas and even "
        "better snacks. Best of luck in Singapore! ✈️\n\n"
        "From your team",
    ),
    (
        "Okay, here's a Christmas message for your clients:\n\n"
        "Dear valued customers,\n\n"
        "Thank you for a wonderful year; it's been a joy to serve you. Merry Christmas and a "
        "happy New Year! 🎄\n\n"
        "Warm regards,\n"
        "[Your Name]",
        "Dear valued customers,\n\n"
        "Thank you for a wonderful year; it's been a joy to serve you. Merry Christmas and a "
        "happy New Year! 🎄",
    ),
    (
        "Here's a short and sweet message for your friend:\n\n"
        "Happy birthday, Leo! 🎉 Don't eat all the cake... or do, it's your day!",
        "Happy birthday, Leo! 🎉 Don't eat all the cake... or do, it's your day!",
    ),
    (
        "The following message is perfect for a new baby:\n\n"
        "Welcome to the world, little Ava! 👶 Congratulations, Sam and Jo: your family just got "
        "3.1 kg sweeter. 👨‍👩‍👧",
        "Welcome to the world, little Ava! 👶 Congratulations, Sam and Jo: your family just got "
        "3.1 kg sweeter. 👨‍👩‍👧",
    ),
    (
        "좋아요! 다음은 부장님께 드릴 승진 축하 메시지입니다:\n\n"
        "부장님, 승진을 진심으로 축하드립니다. 그동안의 노고가 빛을 발하는 것 같아 저희 팀 모두 "
        "기쁩니다.\n\n"
        "진심을 담아,\n"
        "[이름]",
        "부장님, 승진을 진심으로 축하드립니다. 그동안의 노고가 빛을 발하는 것 같아 저희 팀 모두 "
        "기쁩니다.",
    ),
    (
        "알겠습니다. 엄마께 보낼 어버이날 메시지를 작성해 드릴게요:\n\n"
        "엄마, 어버이날 축하드려요! 💐 항상 고맙고 사랑해요.\n\n"
        "사랑하는 딸 민지가",
        "엄마, 어버이날 축하드려요! 💐 항상 고맙고 사랑해요.\n\n사랑하는 딸 민지가",
    ),
    (
        "아래는 선생님께 보낼 메시지입니다:\n\n선생님, 스승의 날 축하드립니다! 🍎 늘 건강하세요.",
        "선생님, 스승의 날 축하드립니다! 🍎 늘 건강하세요.",
    ),
    ('Sure!\n\n"Happy birthday, Jun! 🎂"\n\nBest wishes,\n[Your Name]', "Happy birthday, Jun! 🎂"),
    (
        "## 설날 인사\n\n"
        "할머니, 새해 복 많이 받으세요! 🧧 올해도 건강하시고 자주 웃으세요.\n\n"
        "손녀 지유 올림",
        "할머니, 새해 복 많이 받으세요! 🧧 올해도 건강하시고 자주 웃으세요.\n\n손녀 지유 올림",
    ),
    (
        "Here's a message for your team:\n\n"
        "Team, **thank you** for an incredible quarter: 3 launches, 0 outages (knock on wood) and "
        "__countless__ laughs. 🙌\n\n"
        "Cheers,\n"
        "[Your Name]",
        "Team, thank you for an incredible quarter: 3 launches, 0 outages (knock on wood) and "
        "countless laughs. 🙌",
    ),
    (
        "민지야, 생일 축하해! 🎂 오늘 하루 제일 행복하길 바랄게. 사랑을 담아, [이름]",
        "민지야, 생일 축하해! 🎂 오늘 하루 제일 행복하길 바랄게.",
    ),
    (
        "Sure! Here's a Christmas message for your family:\n\n"
        '"Merry Christmas, everyone! 🎄 May your days be merry and bright."\n\n'
        "Love,\n"
        "[Your Name]",
        "Merry Christmas, everyone! 🎄 May your days be merry and bright.",
    ),
    (
        "Great! Here's a farewell message for your colleague:\n\n"
        "It's been a pleasure working with you, Tom – good luck in your new role! 🎉\n\n"
        "Best,\n"
        "[Your Name]",
        "It's been a pleasure working with you, Tom – good luck in your new role! 🎉",
    ),
    (
        "**Happy Chuseok!**\n\n"
        "“풍성한 한가위 보내세요! 🌕 가족과 함께 따뜻하고 행복한 시간 되시길 바랍니다.”",
        "풍성한 한가위 보내세요! 🌕 가족과 함께 따뜻하고 행복한 시간 되시길 바랍니다.",
    ),
    (
        "Of course! Here's a message for your mom:\n\n"
        "Mom, you're **the best**. Happy birthday! 🎂\n\n"
        "Love,\n"
        "Jun",
        "Mom, you're the best. Happy birthday! 🎂\n\nLove,\nJun",
    ),
    (
        "Here's a cute message for your best friend:\n\n"
        "Happy birthday, bestie! 🥳 20 years of friendship and you still laugh at my jokes.\n\n"
        "xoxo,\n"
        "[Your Name]",
        "Happy birthday, bestie! 🥳 20 years of friendship and you still laugh at my jokes.",
    ),
    (
        '"Happy graduation, Mina! 🎓 The world is lucky to have you."\n\n'
        "Warm regards,\n"
        "[Your Name]",
        "Happy graduation, Mina! 🎓 The world is lucky to have you.",
    ),
    (
        "다음은 친구에게 보낼 새해 인사 메시지입니다:\n\n"
        '"지민아, 새해 복 많이 받아! 🎆 올해는 우리 꼭 같이 여행 가자."',
        "지민아, 새해 복 많이 받아! 🎆 올해는 우리 꼭 같이 여행 가자.",
    ),
]
