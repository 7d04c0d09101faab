"""Size limits that keep answer extraction linear and bounded, however long or hostile the reply."""

MAX_RESPONSE_CHARS = 200_000  # scanning only looks at the tail; a 1 MB response is cut, not rejected


MAX_MARKER_ANSWER_CHARS = 300


ANSWER_LINE_CHARS = 100  # a longer line after 'Answer:' and a line break is an explanation, not the answer
