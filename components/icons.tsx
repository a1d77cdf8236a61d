// Inline SVG icons: no request, no font, and they take the text colour in both themes.

const paths = {
  locked: 'M7 11V8a5 5 0 0 1 10 0v3M5 11h14v10H5z',
  unlocked: 'M7 11V8a5 5 0 0 1 9.6-2M5 11h14v10H5z',
  chevron: 'm6 9 6 6 6-6',
};

/** Decorative: the word beside it says the same to a screen reader. */
export function Icon({ name }: { name: keyof typeof paths }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
      <path d={paths[name]} />
    </svg>
  );
}
