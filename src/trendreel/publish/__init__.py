"""The publish stage: accounts, platforms (folder, YouTube), the approval gate and the duplicate guard."""
