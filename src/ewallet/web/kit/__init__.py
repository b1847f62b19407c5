"""What the web front ends share: sessions, CSRF, templates, translations, forms, pages."""
