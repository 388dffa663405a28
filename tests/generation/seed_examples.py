"""Seed items shared by the generation tests."""

SEEDS = [
    {"question": "What is the capital of France?", "answer": "Paris", "category": "geography"},
    {"question": "How many legs does a spider have?", "answer": "Eight", "category": "biology"},
    {"question": "Who wrote Hamlet?", "answer": "William Shakespeare", "category": "literature"},
    {
        "question": "What is the boiling point of water at sea level?",
        "answer": "100 °C",
        "category": "physics",
    },
    {
        "question": "Which planet is known as the red planet?",
        "answer": "Mars",
        "category": "geography",
    },
]
