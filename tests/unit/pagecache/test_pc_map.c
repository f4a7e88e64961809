#include "pc_test_fs.h"
int main(void)
{
	return 0;
}
