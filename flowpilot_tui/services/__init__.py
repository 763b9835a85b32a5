"""Domain logic usable without a terminal. Nothing under this package may import Textual or Rich."""
