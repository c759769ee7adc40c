export const id = 880;
export const ids = [880];
export const modules = {

/***/ 880:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   run: () => (/* binding */ C)
/* harmony export */ });
/* harmony import */ var node_module__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(995);
/* harmony import */ var _chunk_4B5D5HIS_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(18);
/* harmony import */ var _chunk_44DLMPXX_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(304);
/* harmony import */ var _chunk_GUSETBCZ_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(331);
/* harmony import */ var _chunk_JOTHZTBP_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(675);
 const require = (0,node_module__WEBPACK_IMPORTED_MODULE_0__.createRequire)(import.meta.url);
async function C(){try{let o=(0,_chunk_44DLMPXX_js__WEBPACK_IMPORTED_MODULE_2__.l)();if(!o){(0,_chunk_44DLMPXX_js__WEBPACK_IMPORTED_MODULE_2__.h)("Nothing to clean up: the main step created nothing.");return}let i=(0,_chunk_4B5D5HIS_js__WEBPACK_IMPORTED_MODULE_1__.E)(o);if(!(0,_chunk_4B5D5HIS_js__WEBPACK_IMPORTED_MODULE_1__.A)()){(0,_chunk_44DLMPXX_js__WEBPACK_IMPORTED_MODULE_2__.h)(`cleanup: false, so the kubeconfig and the token were left in place; the token expires at ${o.expiration??"its expiry"}.`),(0,_chunk_44DLMPXX_js__WEBPACK_IMPORTED_MODULE_2__.h)(`The job ${i}.`);return}let r=await (0,_chunk_4B5D5HIS_js__WEBPACK_IMPORTED_MODULE_1__.k)(o,()=>(0,_chunk_4B5D5HIS_js__WEBPACK_IMPORTED_MODULE_1__.t)((0,_chunk_4B5D5HIS_js__WEBPACK_IMPORTED_MODULE_1__.q)(o.bootstrap,(0,_chunk_4B5D5HIS_js__WEBPACK_IMPORTED_MODULE_1__.B)())));for(let t of r.done)(0,_chunk_44DLMPXX_js__WEBPACK_IMPORTED_MODULE_2__.h)(t);for(let t of r.problems)(0,_chunk_44DLMPXX_js__WEBPACK_IMPORTED_MODULE_2__.g)((0,_chunk_4B5D5HIS_js__WEBPACK_IMPORTED_MODULE_1__.n)(t));(0,_chunk_44DLMPXX_js__WEBPACK_IMPORTED_MODULE_2__.h)(`The job ${i}.`),await (0,_chunk_4B5D5HIS_js__WEBPACK_IMPORTED_MODULE_1__.H)([...r.done,...r.problems.map(t=>`Problem: ${(0,_chunk_4B5D5HIS_js__WEBPACK_IMPORTED_MODULE_1__.n)(t)}`)],r.revoked,i)}catch(o){(0,_chunk_44DLMPXX_js__WEBPACK_IMPORTED_MODULE_2__.g)(`Cleanup did not finish: ${(0,_chunk_4B5D5HIS_js__WEBPACK_IMPORTED_MODULE_1__.n)((0,_chunk_4B5D5HIS_js__WEBPACK_IMPORTED_MODULE_1__.b)(o))}`)}}


/***/ })

};
