"""Output of analysis results: the JSON contract document and text renderings for the terminal."""
