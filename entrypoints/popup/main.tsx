import { browser } from 'wxt/browser';
import { mountPopup } from './mount';
import '@/assets/theme.css';
import './style.css';

document.documentElement.lang = browser.i18n.getUILanguage();
const root = document.getElementById('app');
if (!root) throw new Error('popup.html has no #app.');
mountPopup(root);
