"""A character-level tokenizer built with the `tokenizers` library and saved as a PreTrainedTokenizerFast.

Why character level: the embedded model must learn arithmetic from scratch in minutes on a CPU, and one token per
character keeps every digit visible to it. The vocabulary is every printable ASCII character plus newline, which
covers the prompts, LaTeX solutions and \\boxed{} answers of the project's generators; anything else maps to <unk>.
"""
from __future__ import annotations

import string

from tokenizers import Tokenizer, decoders, models, processors
from transformers import PreTrainedTokenizerFast

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIAL_TOKENS = [PAD, BOS, EOS, UNK]
CHARACTERS = "\n" + "".join(chr(c) for c in range(32, 127))
assert set(string.digits + "+-*/=\\{}^()") <= set(CHARACTERS)

# The prompt is given verbatim (the data template already formats it); the tokenizer adds <bos> itself.
CHAT_TEMPLATE = "{% for message in messages %}{{ message['content'] }}{% endfor %}"


def build_char_tokenizer() -> PreTrainedTokenizerFast:
    """Return the char tokenizer: ids 0-3 are specials, then one id per character (deterministic order)."""
    vocab = {tok: i for i, tok in enumerate(SPECIAL_TOKENS)}
    for ch in CHARACTERS:
        vocab[ch] = len(vocab)
    # BPE with no merges splits text into single characters; no pre-tokenizer, so spaces are ordinary characters.
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token=UNK))
    backend.add_special_tokens(SPECIAL_TOKENS)
    backend.decoder = decoders.Fuse()
    backend.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A $B", special_tokens=[(BOS, vocab[BOS])]
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        unk_token=UNK,
        padding_side="left",
        clean_up_tokenization_spaces=False,
    )
    tok.chat_template = CHAT_TEMPLATE
    return tok
