"""The benchmark page's sections: each task's run rewrites its own part of one page."""
import re
from typing import Optional

BEGIN, END = '<!-- classification:begin -->', '<!-- classification:end -->'


def replace_block(page: Optional[str], block: str) -> str:
    """``page`` with its classification section replaced by ``block`` (appended if absent)."""
    page = page or '# Distillation benchmark\n'
    pattern = re.compile(re.escape(BEGIN) + r'.*?' + re.escape(END) + r'\n?', re.S)
    if pattern.search(page):
        return pattern.sub(lambda _: block, page, count=1)
    return page.rstrip('\n') + '\n\n' + block


def keep_block(old_page: Optional[str], new_page: str) -> str:
    """``new_page`` with the classification section of ``old_page`` carried over."""
    match = re.search(re.escape(BEGIN) + r'.*?' + re.escape(END) + r'\n?', old_page or '', re.S)
    return replace_block(new_page, match.group(0)) if match else new_page
