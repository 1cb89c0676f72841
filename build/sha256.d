build/sha256.o: src/sha256.c include/sha256.h
include/sha256.h:
