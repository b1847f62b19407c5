"""Operations: maintenance windows and their enforcement at the HTTP edge."""
