"""The sources of bench/make_real_eval.py, one module each (man, stdlib, iso, tz), over the document
record and question filter they share (records) and the description-to-question phrasing (phrases)."""
