import { render } from 'preact';
import { takePictureDown } from '@/utils/first-paint-copy';
import { App } from './App';

/**
 * Renders the popup into `root`. When first-paint.js has put the picture of the last open there
 * (inert), the browser shows that frame first; the app, which renders the same from the copied
 * state, then takes its place.
 */
export function mountPopup(root: HTMLElement): void {
  const start = () => {
    takePictureDown(root);
    render(<App />, root);
  };
  if (root.inert) requestAnimationFrame(() => setTimeout(start));
  else start();
}
