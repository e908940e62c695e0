/* SPDX-License-Identifier: MIT */
/*
 * Guest test: returning n from main makes hv exit with n.
 * expect-status: 7
 */
int main(void)
{
	return 7;
}
