// Placeholder: `ankh embed` encoder (issue 7) replaces this file.
