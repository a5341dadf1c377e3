// SPDX-License-Identifier: MIT
/* compat.missing_symbol: a driver that uses a kernel name the compat layer
 * does not provide must not compile, and the error must name it. */
#include <linux/mm.h>

int uses_find_vma(struct mm_struct *mm);

int uses_find_vma(struct mm_struct *mm)
{
	return find_vma(mm, 0) != 0;
}
