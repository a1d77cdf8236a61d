import { render } from 'preact';
import { browser } from 'wxt/browser';
import { App } from './App';
import '@/assets/theme.css';
import './style.css';

document.documentElement.lang = browser.i18n.getUILanguage();
const root = document.getElementById('app') ?? document.body;
const start = () => {
  // The app renders the same as the picture first-paint.js put up (from the same copy), and live.
  root.replaceChildren();
  root.inert = false;
  render(<App />, root);
};
// With the picture up, the browser shows it before the app's work begins.
if (root.hasChildNodes()) requestAnimationFrame(() => setTimeout(start));
else start();
