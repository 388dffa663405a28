"""Seed sets of four shapes for bench/quality.py, written for it: support Q&A with a closed
category, RAG question/context/answer, a classification set with a closed label, and
multi-turn dialogues with closed metadata."""

SUPPORT = [
    {
        "input": "I ordered a lamp two weeks ago and the tracking has not moved since Monday.",
        "expected_output": "I'm sorry for the wait. I've asked the courier to trace parcel"
        " and will email you within 48 hours; if it is lost we resend it free of charge.",
        "category": "shipping",
    },
    {
        "input": "My card was charged for the annual plan although I chose monthly.",
        "expected_output": "I've refunded the difference to your card and switched the plan"
        " to monthly; the refund shows on your statement in three to five days.",
        "category": "billing",
    },
    {
        "input": "I can't log in, the code you text me never arrives.",
        "expected_output": "Texts can be delayed by some carriers. Use the 'Email me a"
        " code' option on the sign-in page, then check your phone number under Security.",
        "category": "account",
    },
    {
        "input": "The jacket is too small, can I swap it for a large?",
        "expected_output": "Yes. Start an exchange from your orders page, choose size L,"
        " and we ship the new jacket as soon as the courier scans your return.",
        "category": "returns",
    },
    {
        "input": "The checkout page freezes after I enter my postcode.",
        "expected_output": "Thanks for reporting it. Clearing the browser cache usually"
        " fixes this; if not, tell us your browser version so our team can reproduce it.",
        "category": "technical",
    },
    {
        "input": "Do you deliver to the Canary Islands?",
        "expected_output": "We do, with tracked post in seven to ten working days. Import"
        " duties may apply and are collected by the courier on delivery.",
        "category": "shipping",
    },
    {
        "input": "Why is there a 4.99 fee on my last invoice?",
        "expected_output": "That is the paper invoice fee. Switch to e-invoices under"
        " Billing settings and the fee disappears from your next invoice.",
        "category": "billing",
    },
    {
        "input": "Please close my account and delete my data.",
        "expected_output": "I've started the closure. Your data is erased within 30 days,"
        " and you'll get a confirmation email once it is done.",
        "category": "account",
    },
]

RAG = [
    {
        "question": "How many devices can one Family plan use at the same time?",
        "context": "The Family plan allows up to six members. Each member may stream on"
        " two devices at once, and downloads are limited to 100 titles per member.",
        "answer": "Up to twelve devices: six members, each on two devices at once.",
    },
    {
        "question": "What happens to my downloads if I cancel?",
        "context": "When a subscription ends, downloaded titles remain on the device but"
        " cannot be played. They become playable again if the subscription is renewed"
        " within 90 days.",
        "answer": "They stay on the device but won't play; renew within 90 days to get them back.",
    },
    {
        "question": "Can I change the plan in the middle of a billing period?",
        "context": "Upgrades take effect immediately and the price difference is charged"
        " pro rata. Downgrades take effect at the start of the next billing period.",
        "answer": "Yes. An upgrade applies at once with a pro-rata charge; a downgrade"
        " applies from the next period.",
    },
    {
        "question": "Is there a student discount?",
        "context": "Students enrolled at an accredited university get 50% off the Basic"
        " plan for up to four years, verified once a year through the student portal.",
        "answer": "Yes, half price on Basic for up to four years, re-verified every year.",
    },
    {
        "question": "Which video quality does the Basic plan offer?",
        "context": "Basic streams in HD (720p) on one device. Standard adds Full HD (1080p)"
        " and a second device. Premium adds 4K and spatial audio.",
        "answer": "HD at 720p, on one device at a time.",
    },
    {
        "question": "How do I get a refund for an accidental purchase of a rental?",
        "context": "Rentals can be refunded within 48 hours if playback has not started."
        " Request the refund from Purchases in account settings.",
        "answer": "Within 48 hours and before you press play, request it under Purchases"
        " in account settings.",
    },
]

REVIEWS = [
    {
        "review": "The flat white was perfect and the barista remembered my name.",
        "sentiment": "positive",
    },
    {
        "review": "Waited twenty minutes for a cold croissant. Not coming back.",
        "sentiment": "negative",
    },
    {
        "review": "Decent coffee, average prices, nothing special about the place.",
        "sentiment": "neutral",
    },
    {
        "review": "Their lemon cake is the best in town and the terrace is lovely.",
        "sentiment": "positive",
    },
    {"review": "Staff were rude when I asked for oat milk.", "sentiment": "negative"},
    {
        "review": "It was fine. The music was a bit loud but the tea was okay.",
        "sentiment": "neutral",
    },
    {
        "review": "Great wifi and plenty of sockets, ideal for working all morning.",
        "sentiment": "positive",
    },
    {"review": "The tables were sticky and the bins were overflowing.", "sentiment": "negative"},
    {"review": "Opens at eight, serves breakfast until eleven, card only.", "sentiment": "neutral"},
]

DIALOGUES = [
    {
        "turns": [
            {"role": "user", "text": "Hi, I'd like to cancel my gym membership."},
            {"role": "assistant", "text": "I can help. May I ask why you're leaving?"},
            {"role": "user", "text": "I'm moving to another city next month."},
        ],
        "meta": {"intent": "cancel", "channel": "chat"},
    },
    {
        "turns": [
            {"role": "user", "text": "Can I move from Basic to the plan with classes?"},
            {
                "role": "assistant",
                "text": "Yes, Plus includes all group classes for 10 more a month.",
            },
        ],
        "meta": {"intent": "upgrade", "channel": "chat"},
    },
    {
        "turns": [
            {"role": "user", "text": "I was charged twice this month."},
            {"role": "assistant", "text": "Sorry about that. I see two payments on the 3rd."},
            {"role": "user", "text": "Can you send one back?"},
            {"role": "assistant", "text": "Done, the second payment is refunded today."},
        ],
        "meta": {"intent": "refund", "channel": "email"},
    },
    {
        "turns": [
            {"role": "user", "text": "How do I stop my membership while I recover from surgery?"},
            {
                "role": "assistant",
                "text": "We can freeze it for up to three months with a doctor's note.",
            },
        ],
        "meta": {"intent": "cancel", "channel": "email"},
    },
    {
        "turns": [
            {"role": "user", "text": "Does the premium plan include the sauna?"},
            {"role": "assistant", "text": "It does, plus towel service and two guest passes."},
            {"role": "user", "text": "Then please switch me over."},
        ],
        "meta": {"intent": "upgrade", "channel": "chat"},
    },
    {
        "turns": [
            {"role": "user", "text": "The personal training session was cancelled by the trainer."},
            {
                "role": "assistant",
                "text": "Apologies. I've credited the session back to your account.",
            },
        ],
        "meta": {"intent": "refund", "channel": "chat"},
    },
]

SEED_SETS = {
    "support (closed category)": SUPPORT,
    "RAG question/context/answer": RAG,
    "classification (closed label)": REVIEWS,
    "dialogues (closed metadata)": DIALOGUES,
}
