"""The conditional GAN: its settings and thin scripts over core/."""
