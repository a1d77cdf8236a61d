import { render } from 'preact';
import { browser } from 'wxt/browser';
import { Options } from './Options';
import '@/assets/theme.css';
import './style.css';

document.documentElement.lang = browser.i18n.getUILanguage();
render(<Options />, document.getElementById('app') ?? document.body);
