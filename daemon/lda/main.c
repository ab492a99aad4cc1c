/* loft-lda - placeholder until the delivery core lands. */
int main(void) { return 75; }
