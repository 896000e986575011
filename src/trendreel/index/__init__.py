"""The index stage: text, image, video and speech understanding of crawled articles."""
