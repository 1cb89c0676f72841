build/quote.o: src/quote.c include/quote.h include/util.h
include/quote.h:
include/util.h:
