"""ASR bridge: live call audio in, streaming STT CallEvents out (docs/speech.md)."""
