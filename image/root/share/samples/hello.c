/* karst has no user mode: this file is here to be read, hashed and copied. */
#include <stdio.h>

int main(void)
{
	puts("hello from a cowfs root");
	return 0;
}
